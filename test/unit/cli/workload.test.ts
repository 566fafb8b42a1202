// Pieces of the workload commands: --chunk-size parsing, the progress line (drawn only on a terminal,
// never with --quiet), the 0600 atomic secret file, and output preflight.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseChunkSize } from '../../../src/cli/seal.js';
import { createProgressLine, formatProgress } from '../../../src/cli/progress.js';
import { writeSecretFile } from '../../../src/cli/agent.js';
import { preflightOutput } from '../../../src/cli/workload.js';
import { UsageError, type CliIo } from '../../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'keyward-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseChunkSize', () => {
  it('takes bytes or K/KiB/M/MiB within 256 B .. 16 MiB', () => {
    expect(parseChunkSize(undefined)).toBeUndefined();
    expect(parseChunkSize('4096')).toBe(4096);
    expect(parseChunkSize('64K')).toBe(65536);
    expect(parseChunkSize('64kib')).toBe(65536);
    expect(parseChunkSize('16M')).toBe(16 * 1024 * 1024);
    expect(parseChunkSize('256')).toBe(256);
    for (const bad of ['255', '17M', '1G', '-1', '1.5M', 'lots', '']) expect(() => parseChunkSize(bad)).toThrow(UsageError);
  });
});

describe('progress line', () => {
  const capture = (errIsTty: boolean) => {
    const lines: string[] = [];
    const io: CliIo = { out: () => undefined, err: (t) => lines.push(t), errIsTty };
    return { io, lines };
  };

  it('formats percentage, sizes and rate', () => {
    expect(formatProgress('unsealing', { bytesDone: 512 * 1024, bytesTotal: 1024 * 1024 }, 1000)).toBe('unsealing [############............]  50% 0.5/1.0 MiB 0.5 MiB/s');
    expect(formatProgress('sealing', { bytesDone: 3 * 1024 * 1024, bytesTotal: undefined }, 0)).toBe('sealing 3.0 MiB');
  });

  it('draws on a terminal only, not with --quiet, and ends its line', () => {
    const tty = capture(true);
    const line = createProgressLine(tty.io, 'sealing', false);
    line.update({ bytesDone: 10, bytesTotal: 100 });
    line.finish();
    expect(tty.lines.at(-1)).toBe('\n');
    expect(tty.lines.filter((l) => l.startsWith('\rsealing [')).length).toBeGreaterThanOrEqual(1);
    for (const [isTty, quiet] of [[false, false], [true, true]] as const) {
      const c = capture(isTty);
      const l = createProgressLine(c.io, 'sealing', quiet);
      l.update({ bytesDone: 10, bytesTotal: 100 });
      l.finish();
      expect(c.lines).toEqual([]);
    }
  });
});

describe('writeSecretFile', () => {
  it('writes 0600 atomically, replacing an existing file', async () => {
    const path = join(dir, 'key.bin');
    writeFileSync(path, 'old', { mode: 0o644 });
    await writeSecretFile(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.includes('keyward-tmp'))).toEqual([]);
  });

  it('fails with ERR_CLI_OUTPUT_UNWRITABLE and leaves nothing when the target is a directory', async () => {
    const target = join(dir, 'a-directory');
    mkdirSync(target);
    await expect(writeSecretFile(target, new Uint8Array([1]))).rejects.toMatchObject({ code: 'ERR_CLI_OUTPUT_UNWRITABLE' });
    expect(readdirSync(dir).filter((f) => f.includes('keyward-tmp'))).toEqual([]);
  });
});

describe('preflightOutput', () => {
  it('accepts a new file or an empty directory; refuses a missing parent, a directory for a file, a non-empty directory', async () => {
    await expect(preflightOutput(join(dir, 'new.bin'), 'file')).resolves.toBeUndefined();
    mkdirSync(join(dir, 'empty'));
    await expect(preflightOutput(join(dir, 'empty'), 'directory')).resolves.toBeUndefined();
    await expect(preflightOutput(join(dir, 'missing', 'x'), 'file')).rejects.toMatchObject({ code: 'ERR_CLI_OUTPUT_UNWRITABLE' });
    await expect(preflightOutput(join(dir, 'empty'), 'file')).rejects.toMatchObject({ code: 'ERR_CLI_OUTPUT_UNWRITABLE' });
    await expect(preflightOutput(dir, 'directory')).rejects.toMatchObject({ code: 'ERR_CLI_OUTPUT_UNWRITABLE' });
  });

  it('refuses an existing file with ERR_CLI_OUTPUT_EXISTS unless forced', async () => {
    const existing = join(dir, 'existing.bin');
    writeFileSync(existing, 'keep me');
    await expect(preflightOutput(existing, 'file')).rejects.toMatchObject({ code: 'ERR_CLI_OUTPUT_EXISTS' });
    await expect(preflightOutput(existing, 'file', true)).resolves.toBeUndefined();
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
  });
});
