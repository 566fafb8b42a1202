// Every error code in the table is raised somewhere: a code nobody throws is a promise the API does not keep.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allErrorCodes } from '../../src/errors.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error codes', () => {
  it('each code of src/errors.ts is used outside it', () => {
    const text = sources('src')
      .filter((p) => p !== join('src', 'errors.ts'))
      .map((p) => readFileSync(p, 'utf8'))
      .join('\n');
    const unused = allErrorCodes().filter((code) => !new RegExp(`\\b${code}\\b`).test(text));
    expect(unused).toEqual([]);
  });
});
