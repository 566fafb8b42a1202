// `keyward login` (store a checked API token for KEYWARD_ADDR in a 0600 file) and `keyward status`.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { systemClock } from '../clock.js';
import { KeywardError } from '../errors.js';
import { AdminApiError, openAdmin, output, parseCommand, printFields, readCredentials, type Admin } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

/** Reads the token: all of standard input when it is not a terminal, else a prompt that does not echo. */
async function readToken(io: CliIo): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').trim();
  }
  io.err('API token: ');
  const silent = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.once('line', (line) => resolve(line.trim())));
  } finally {
    rl.close();
    io.err('\n');
  }
}

/** Writes the credentials file atomically, 0600, in a 0700 directory. */
function storeToken(file: string, baseUrl: string, token: string): void {
  const credentials = readCredentials(file);
  const next = { servers: { ...credentials.servers, [baseUrl]: { token, savedAt: systemClock.now().toISOString() } } };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Asks the server whether the token authenticates (any role may list keys or is refused only for scope). */
async function checkToken(admin: Admin, token: string): Promise<'ok' | 'narrow'> {
  const probe = openAdmin({ ...admin.settings, token });
  try {
    await probe.request('GET', '/v1/keys?limit=1');
    return 'ok';
  } catch (err) {
    if (err instanceof AdminApiError && err.code === 'ERR_AUTH_FORBIDDEN') return 'narrow';
    throw err;
  }
}

export async function loginCommand(args: string[], io: CliIo): Promise<number> {
  parseCommand(args, {}, { min: 0, max: 0, names: '' });
  const admin = openAdmin();
  const token = await readToken(io);
  if (token === '') throw new UsageError('no token given (type it at the prompt, or pipe it on standard input)');
  const verdict = await checkToken(admin, token);
  storeToken(admin.settings.credentialsFile, admin.baseUrl, token);
  io.out(`stored the token for ${admin.baseUrl} in ${admin.settings.credentialsFile} (mode 0600)${verdict === 'narrow' ? '; it cannot list keys (narrow scopes)' : ''}\n`);
  if (admin.settings.token !== undefined) io.err('note: KEYWARD_TOKEN is set and overrides the stored token\n');
  return 0;
}

export async function statusCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(args, {}, { min: 0, max: 0, names: '' });
  const admin = openAdmin();
  // 503 is an answer too: not ready, with the failing checks.
  const ready = await admin.request('GET', '/readyz', undefined, { auth: false, accept: [503] });
  let token = admin.tokenSource === 'none' ? "none (set KEYWARD_TOKEN or run 'keyward login')" : `from ${admin.tokenSource}`;
  if (admin.tokenSource !== 'none' && !values['json']) {
    try {
      await admin.request('GET', '/v1/keys?limit=1');
      token += ', valid';
    } catch (err) {
      if (!(err instanceof AdminApiError || err instanceof KeywardError)) throw err;
      token += `, ${err instanceof AdminApiError ? err.code : err.code}`;
    }
  }
  output(io, values, ready, (json: { status: string; checks: { name: string; ok: boolean; detail?: string }[] }) =>
    printFields(io, [
      ['server', admin.baseUrl],
      ['status', json.status],
      ...json.checks.map((c) => [`  ${c.name}`, c.ok ? 'ok' : `FAILED${c.detail ? ` (${c.detail})` : ''}`] as const),
      ['token', token],
    ]),
  );
  return (ready.json as { status?: string }).status === 'ready' ? 0 : 1;
}
