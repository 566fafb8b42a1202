// The README's walkthrough, run as written by test/walkthrough/run-walkthrough.sh (built CLI: `npm run build`
// first): its shell blocks in order against a real server; fails when the document and the tools drift apart.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('the README walkthrough', () => {
  it('works as written: identical unsealed file, a refused workload, both in the audit log', async () => {
    const script = join(process.cwd(), 'test', 'walkthrough', 'run-walkthrough.sh');
    const { stdout } = await promisify(execFile)('bash', [script], { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' }, maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toContain('identical\n');
    expect(stdout).toContain('refused with exit code 1\n');
    expect(stdout).toContain('and no refused.bin was written\n');
    expect(stdout).toMatch(/ success datakey /);
    expect(stdout).toMatch(/ denied {2}ERR_POLICY_DENIED measurement: fail\n/);
    expect(stdout.trimEnd().endsWith('walkthrough OK')).toBe(true);
  }, 240_000);
});
