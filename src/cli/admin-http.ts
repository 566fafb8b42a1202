// The admin commands' shared plumbing (docs/admin-cli.md): the server address and token (KEYWARD_ADDR,
// KEYWARD_TOKEN, or the token `keyward login` stored), one JSON request that keeps the server's exact
// answer text for --json, errors that carry the server's ERR_* code, option parsing and plain tables.
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadAdminSettings, type AdminSettings } from '../config.js';
import { KeywardError } from '../errors.js';
import { KeywardClientError } from '../agent/client-error.js';
import { isInsecureRemote, normalizeBaseUrl } from '../agent/client-http.js';
import { UsageError, type CliIo } from './main.js';

/** An error answer of the server: printed as `CODE: detail (HTTP status, request id)`, exit 1. */
export class AdminApiError extends Error {
  constructor(
    readonly code: string,
    readonly httpStatus: number,
    detail: string,
    readonly requestId: string | undefined,
  ) {
    super(`${code}: ${detail} (HTTP ${httpStatus}${requestId ? `, request id ${requestId}` : ''})`);
  }
}

export interface Credentials {
  readonly servers: Record<string, { readonly token: string; readonly savedAt: string }>;
}

/** The credentials file, or an empty one when there is none yet. */
export function readCredentials(file: string): Credentials {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
    return { servers: parsed.servers ?? {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
    throw new KeywardError('ERR_CLI_NOT_LOGGED_IN', `cannot read ${file}: ${(err as Error).message}; run 'keyward login' again`);
  }
}

export interface Admin {
  readonly baseUrl: string;
  readonly settings: AdminSettings;
  /** Where the token came from: the environment, the credentials file, or nowhere. */
  readonly tokenSource: 'KEYWARD_TOKEN' | 'credentials' | 'none';
  /** One request; resolves to the answer's text (exactly the server's JSON) and its parsed value. */
  request(method: string, path: string, body?: unknown, opts?: { auth?: boolean; accept?: readonly number[] }): Promise<{ text: string; json: unknown; status: number }>;
}

/** The admin context for a command: the server, and the token to send (KEYWARD_TOKEN first, as in Vault). */
export function openAdmin(settings: AdminSettings = loadAdminSettings()): Admin {
  let baseUrl: string;
  try {
    baseUrl = normalizeBaseUrl(settings.address);
  } catch (err) {
    throw new UsageError(`KEYWARD_ADDR: ${(err as Error).message}`);
  }
  const stored = settings.token === undefined ? readCredentials(settings.credentialsFile).servers[baseUrl]?.token : undefined;
  const token = settings.token ?? stored;
  const tokenSource = settings.token !== undefined ? 'KEYWARD_TOKEN' : stored !== undefined ? 'credentials' : 'none';
  return {
    baseUrl,
    settings,
    tokenSource,
    async request(method, path, body, opts = {}) {
      const auth = opts.auth ?? true;
      if (auth && token === undefined) {
        throw new KeywardError('ERR_CLI_NOT_LOGGED_IN', `no API token for ${baseUrl}: set KEYWARD_TOKEN or run 'keyward login'`);
      }
      if (auth && isInsecureRemote(baseUrl)) {
        // Why: a bearer token over plain http to another machine is readable by anyone on the path.
        throw new KeywardClientError('ERR_CLIENT_OPTIONS_INVALID', `refusing to send an API token over plain http to ${baseUrl}; use https`);
      }
      return send(baseUrl, method, path, body, auth ? token : undefined, opts.accept ?? []);
    },
  };
}

async function send(baseUrl: string, method: string, path: string, body: unknown, token: string | undefined, accept: readonly number[]): Promise<{ text: string; json: unknown; status: number }> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'user-agent': 'keyward-cli' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(60_000),
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    text = await response.text();
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') {
      throw new KeywardClientError('ERR_CLIENT_UNREACHABLE', `cannot reach keyward at ${baseUrl}: ${code === 'ECONNREFUSED' ? 'connection refused (is keyward running there?)' : code}`, {}, { cause: err });
    }
    if ((err as Error).name === 'TimeoutError') throw new KeywardClientError('ERR_CLIENT_TIMEOUT', `keyward at ${baseUrl} did not answer ${method} ${path} within 60 s`);
    throw new KeywardClientError('ERR_CLIENT_CONNECTION_FAILED', `the connection to keyward at ${baseUrl} failed (${code ?? (err as Error).message})`, {}, { cause: err });
  }
  const json = parseJson(text);
  if ((response.status >= 200 && response.status < 300) || accept.includes(response.status)) return { text, json, status: response.status };
  const problem = (json ?? {}) as { code?: unknown; detail?: unknown; requestId?: unknown; problems?: unknown };
  const requestId = typeof problem.requestId === 'string' ? problem.requestId : undefined;
  if (typeof problem.code !== 'string') {
    throw new AdminApiError('ERR_CLIENT_HTTP_ERROR', response.status, `keyward at ${baseUrl} answered ${method} ${path.split('?')[0]} with HTTP ${response.status} without a keyward error code`, requestId);
  }
  let detail = typeof problem.detail === 'string' ? problem.detail : '';
  if (problem.code === 'ERR_ROUTE_NOT_FOUND') detail = `this keyward has no ${method} ${path.split('?')[0]} (a server without this feature yet?)`;
  if (Array.isArray(problem.problems)) {
    for (const p of problem.problems as { rule?: string; path?: string; line?: number; column?: number; message?: string }[]) {
      detail += `\n  - ${p.rule !== undefined ? `rule "${p.rule}"` : p.path || 'document'}${p.line !== undefined ? ` at ${p.line}:${p.column}` : ''}: ${p.message ?? ''}`;
    }
  }
  throw new AdminApiError(problem.code, response.status, detail, requestId);
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses a subcommand's options and positionals strictly (unknown flags are usage errors, exit 2). */
export function parseCommand(args: string[], options: Options, positionals: { min: number; max: number; names: string }): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: { json: { type: 'boolean' }, ...options }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError(`missing ${positionals.names}`);
  if (count > positionals.max) throw new UsageError(`unexpected argument "${parsed.positionals[positionals.max]}"`);
  return { values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals };
}

/** A required string option. */
export function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** An integer option within bounds, or undefined when absent. */
export function intOption(values: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return Number(v);
}

/** The text of an input file; an unreadable one is a usage error (exit 2). */
export function readInputFile(path: string, what: string): string {
  return readInputBytes(path, what).toString('utf8');
}

/** An input file's JSON; an unreadable file or one that is not JSON is a usage error (exit 2). */
export function readJsonFile(path: string, what: string): unknown {
  const text = readInputFile(path, what);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${path} is not JSON`);
  }
}

/** The bytes of an input file; an unreadable one is a usage error (exit 2). */
export function readInputBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A 202 answer (a change waiting for a quorum) says which approval to look at; true when it was one. */
export function printIfPending(io: CliIo, json: unknown, what: string): boolean {
  const approval = (json as { approval?: { id?: unknown } } | null)?.approval;
  if (typeof approval?.id !== 'string') return false;
  io.out(`${what} needs approvals: approval ${approval.id} (keyward approval show ${approval.id})\n`);
  return true;
}

/** A subcommand: its arguments after the subcommand's name, the output, and the admin context. */
export type Subcommand = (args: string[], io: CliIo, admin: Admin) => Promise<number>;

/** Runs `group SUB ...` from a table of subcommands; an unknown or missing one is a usage error. */
export async function dispatch(group: string, table: Record<string, Subcommand>, args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const run = sub !== undefined && Object.hasOwn(table, sub) ? table[sub] : undefined;
  if (!run) {
    const names = Object.keys(table);
    const last = names.pop();
    throw new UsageError(`${group} needs a subcommand: ${names.length > 0 ? `${names.join(', ')} or ${last}` : last}`);
  }
  return run(rest, io, openAdmin());
}

/** A path segment for an id given on the command line. */
export function seg(id: string): string {
  return encodeURIComponent(id);
}

/** Prints rows as aligned columns under a header; `(none)` for no rows. */
export function printTable(io: CliIo, header: readonly string[], rows: readonly (readonly unknown[])[]): void {
  if (rows.length === 0) {
    io.out('(none)\n');
    return;
  }
  const cells = [header, ...rows.map((r) => r.map(cell))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) io.out(`${r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0))).join('  ')}\n`);
}

/** Prints `field: value` lines. */
export function printFields(io: CliIo, fields: readonly (readonly [string, unknown])[]): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [k, v] of fields) io.out(`${`${k}:`.padEnd(width + 2)}${cell(v)}\n`);
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cell).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/[\u0000-\u001f\u007f]/g, '?');
}

/** With --json: the server's answer exactly; otherwise `human` prints it for people. */
export function output(io: CliIo, values: Record<string, unknown>, answer: { text: string; json: unknown }, human: (json: any) => void): number {
  if (values['json']) io.out(answer.text.endsWith('\n') ? answer.text : `${answer.text}\n`);
  else human(answer.json);
  return 0;
}

/**
 * Where a person opens the console for this server: KEYWARD_ORIGIN when set (the relying party's origin),
 * else the server address with a loopback IP spelled `localhost` — passkeys are scoped to the RP ID
 * (default `localhost`), and a browser refuses them at http://127.0.0.1.
 */
export function consoleBase(admin: { readonly baseUrl: string; readonly settings?: { readonly consoleOrigin?: string | undefined } }): string {
  const origin = admin.settings?.consoleOrigin;
  if (origin) return origin.replace(/\/+$/, '');
  const url = new URL(admin.baseUrl);
  if (url.hostname === '127.0.0.1' || url.hostname === '[::1]') url.hostname = 'localhost';
  return url.toString().replace(/\/+$/, '');
}
