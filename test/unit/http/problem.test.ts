// The last line of defence for malformed input: a Postgres data exception (SQLSTATE class 22) that
// escaped validation is the caller's 400, never a 500; other database failures keep their codes.
import { describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { toProblem } from '../../../src/http/problem.js';

const logged: string[] = [];
const request = {
  id: 'req-1',
  log: { warn: (_o: unknown, m: string) => logged.push(`warn ${m}`), error: (_o: unknown, m: string) => logged.push(`error ${m}`), info: () => undefined },
} as unknown as FastifyRequest;

function dbError(code: string): Error {
  return Object.assign(new Error('db'), { code, severity: 'ERROR' });
}

describe('toProblem', () => {
  it('maps SQLSTATE class 22 (invalid text, out of range) to 400 ERR_REQUEST_INVALID and logs a warning', () => {
    for (const code of ['22P02', '22003', '22021', '22P05']) {
      expect(toProblem(dbError(code), request)).toMatchObject({ status: 400, code: 'ERR_REQUEST_INVALID' });
    }
    expect(logged.filter((l) => l.startsWith('warn'))).toHaveLength(4);
  });

  it('keeps connection failures 503 and anything else 500', () => {
    expect(toProblem(dbError('08006'), request)).toMatchObject({ status: 503, code: 'ERR_DB_UNAVAILABLE' });
    expect(toProblem(dbError('42P01'), request)).toMatchObject({ status: 500, code: 'ERR_INTERNAL' });
    expect(toProblem(Object.assign(new Error('x'), { code: '22P02' }), request)).toMatchObject({ status: 500 });
  });
});
