// The CLI's own surface: --version, per-command --help, one-line usage errors (exit 2), and the README's
// "Command line" block kept identical to `keyward --help`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main, USAGE, type CliIo } from '../../../src/cli/main.js';

function capture(): CliIo & { outText: () => string; errText: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), outText: () => out, errText: () => err };
}

describe('keyward CLI surface', () => {
  it('prints the package version', async () => {
    const io = capture();
    expect(await main(['--version'], io)).toBe(0);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(io.outText()).toBe(`keyward ${pkg.version}\n`);
  });

  it.each(['serve', 'migrate', 'kek', 'verify', 'dev', 'agent', 'seal', 'unseal', 'login', 'status', 'key', 'policy', 'token', 'approval', 'audit', 'tenant'])('`keyward %s --help` prints that command alone and exits 0', async (name) => {
    const io = capture();
    expect(await main([name, '--help'], io)).toBe(0);
    const text = io.outText();
    expect(text).toMatch(new RegExp(`^usage:\\n  ${name}\\b`));
    expect(text).not.toContain('workload side');
    const viaHelp = capture();
    expect(await main(['help', name], viaHelp)).toBe(0);
    expect(viaHelp.outText()).toBe(text);
  });

  it('unseal --help includes the EVIDENCE options it takes', async () => {
    const io = capture();
    await main(['unseal', '-h'], io);
    expect(io.outText()).toContain('EVIDENCE: [--simulate snp|tdx');
    expect(io.outText()).toContain('--force');
  });

  it('a usage error is one line and a hint, exit 2 (not the whole usage)', async () => {
    const io = capture();
    expect(await main(['verify', '--bogus'], io)).toBe(2);
    const lines = io.errText().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^keyward verify: .*--bogus/);
    expect(lines[1]).toBe("run 'keyward verify --help' for usage");
  });

  it('an unknown command is one line and a hint, exit 2', async () => {
    const io = capture();
    expect(await main(['frobnicate'], io)).toBe(2);
    expect(io.errText()).toBe('keyward: unknown command "frobnicate"\nrun \'keyward --help\' for the list of commands\n');
  });

  it('no command prints the usage to stderr and exits 2; --help prints it to stdout and exits 0', async () => {
    const none = capture();
    expect(await main([], none)).toBe(2);
    expect(none.errText()).toBe(USAGE);
    const help = capture();
    expect(await main(['--help'], help)).toBe(0);
    expect(help.outText()).toBe(USAGE);
  });

  it("the README's command-line block is exactly `keyward --help`", () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /## Command line\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(USAGE);
  });
});
