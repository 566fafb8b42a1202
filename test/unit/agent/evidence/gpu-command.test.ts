// The gpu-cmd provider with a small node script as the command: the nonce arrives as the last argument
// and in KEYWARD_GPU_NONCE, stdout JSON becomes nvidia-gpu wire items; bad output, failures and timeouts
// have their own codes; nothing goes through a shell. (The script's reports are stand-ins carrying the
// nonce where SPDM puts it, not signed GPU reports: verification of real formats is the simulator's test.)
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createGpuCommandProvider, parseGpuCommandOutput, splitCommandLine } from '../../../../src/agent/evidence/gpu-command.js';
import { decodeEvidenceItem } from '../../../../src/evidence/wire.js';

const SCRIPT = `
const [mode, ...rest] = process.argv.slice(2);
const nonceHex = rest[rest.length - 1];
if (process.env.KEYWARD_GPU_NONCE !== nonceHex) { process.stderr.write('env and argv nonce differ'); process.exit(9); }
const nonce = Buffer.from(nonceHex, 'hex');
const report = (n) => Buffer.concat([Buffer.from([0x11, 0xe0, 0x01, 0xff]), n, Buffer.from([0x00]), Buffer.alloc(64, 0x5a)]).toString('base64');
const chain = '-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n';
switch (mode) {
  case 'good': {
    const count = Number(rest[0]);
    process.stdout.write(JSON.stringify(Array.from({ length: count }, (_, i) => ({ index: i, report: report(nonce), certChain: chain }))));
    break;
  }
  case 'literal':
    if (rest[0] !== '$HOME' || rest[1] !== '*' || rest[2] !== ';' || rest[3] !== '|') { process.stderr.write('args were interpreted: ' + JSON.stringify(rest)); process.exit(5); }
    process.stdout.write(JSON.stringify([{ report: report(nonce), certChain: chain }]));
    break;
  case 'env':
    if (process.env.GPU_TOOL_SETTING !== 'on') process.exit(4);
    process.stdout.write(JSON.stringify([{ report: report(nonce), certChain: chain }]));
    break;
  case 'badjson': process.stdout.write('GPU 0: ready'); break;
  case 'empty': process.stdout.write('[]'); break;
  case 'wrongnonce': process.stdout.write(JSON.stringify([{ report: report(Buffer.alloc(32)), certChain: chain }])); break;
  case 'nochain': process.stdout.write(JSON.stringify([{ report: report(nonce) }])); break;
  case 'fail': process.stderr.write('nvidia tool: GPU is not in CC mode\\n'); process.exit(3);
  case 'sleep': require('node:fs').writeFileSync(rest[0], String(process.pid)); setTimeout(() => {}, 20000); break;
}
`;

let dir: string;
let script: string;
let bind: Uint8Array;
const env = { PATH: '/usr/bin:/bin' };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyward-gpucmd-'));
  script = join(dir, 'gpu-evidence.cjs');
  writeFileSync(script, SCRIPT);
  bind = new Uint8Array(createHash('sha512').update(randomBytes(64)).digest());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], extra: { timeoutMs?: number; env?: Record<string, string> } = {}) =>
  createGpuCommandProvider({ command: [process.execPath, script, ...args], env: extra.env ?? env, ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}) }).collect(bind);

async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a failure');
}

describe('gpu-cmd provider', () => {
  it('passes bind[0..32) as hex in argv and env, and returns one nvidia-gpu item per GPU', async () => {
    const wire = await run(['good', '3']);
    expect(wire).toHaveLength(3);
    for (const item of wire) {
      expect(Object.keys(item)).toEqual(['type', 'report', 'certChain']);
      const decoded = decodeEvidenceItem(item);
      expect(decoded.type).toBe('nvidia-gpu');
      const report = (decoded as { report: Uint8Array }).report;
      expect(Buffer.from(report.subarray(4, 36)).equals(Buffer.from(bind.subarray(0, 32)))).toBe(true);
    }
  });

  it('runs the command with the environment it is given plus KEYWARD_GPU_NONCE', async () => {
    expect(await run(['env'], { env: { ...env, GPU_TOOL_SETTING: 'on' } })).toHaveLength(1);
    expect((await failure(run(['env']))).code).toBe('ERR_AGENT_GPU_CMD_FAILED');
  });

  it('never uses a shell: a command line is split at whitespace and nothing in it is interpreted', async () => {
    expect(splitCommandLine('  nvtrust-evidence --gpus all\t-v ')).toEqual(['nvtrust-evidence', '--gpus', 'all', '-v']);
    const wire = await createGpuCommandProvider({ command: `${process.execPath} ${script} literal $HOME * ; |`, env }).collect(bind);
    expect(wire).toHaveLength(1);
    expect(() => splitCommandLine(' \t ')).toThrow(expect.objectContaining({ code: 'ERR_AGENT_OPTIONS_INVALID' }));
  });

  it('is ERR_AGENT_GPU_CMD_OUTPUT_INVALID for output that is not JSON, empty, lacks a chain, or carries another nonce', async () => {
    for (const mode of ['badjson', 'empty', 'nochain', 'wrongnonce']) {
      expect([mode, (await failure(run([mode]))).code]).toEqual([mode, 'ERR_AGENT_GPU_CMD_OUTPUT_INVALID']);
    }
  });

  it('is ERR_AGENT_GPU_CMD_FAILED on a non-zero exit, with the tail of stderr in the message', async () => {
    const err = await failure(run(['fail']));
    expect(err.code).toBe('ERR_AGENT_GPU_CMD_FAILED');
    expect(err.message).toContain('exited with status 3');
    expect(err.message).toContain('GPU is not in CC mode');
  });

  it('is ERR_AGENT_GPU_CMD_FAILED when the command does not exist', async () => {
    const err = await failure(createGpuCommandProvider({ command: [join(dir, 'no-such-tool')], env }).collect(bind));
    expect(err.code).toBe('ERR_AGENT_GPU_CMD_FAILED');
    expect(err.message).toContain('ENOENT');
  });

  it('is ERR_AGENT_GPU_CMD_TIMEOUT when the command hangs, and does not wait for it', async () => {
    const started = performance.now();
    const pidFile = join(dir, 'sleeper.pid');
    expect((await failure(run(['sleep', pidFile], { timeoutMs: 1000 }))).code).toBe('ERR_AGENT_GPU_CMD_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(5000);
    // The command was killed, not left running.
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 40 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
  });

  it('refuses an empty command and a bad timeout (ERR_AGENT_OPTIONS_INVALID)', () => {
    expect(() => createGpuCommandProvider({ command: [], env })).toThrow(expect.objectContaining({ code: 'ERR_AGENT_OPTIONS_INVALID' }));
    expect(() => createGpuCommandProvider({ command: ['x'], env, timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_AGENT_OPTIONS_INVALID' }));
  });
});

describe('parseGpuCommandOutput', () => {
  it('only ever returns items or throws ERR_AGENT_GPU_CMD_OUTPUT_INVALID, for any text', () => {
    const nonce = bind.subarray(0, 32);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        try {
          parseGpuCommandOutput(text, nonce);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('ERR_AGENT_GPU_CMD_OUTPUT_INVALID');
        }
      }),
      { numRuns: 300 },
    );
  });
});
