// `keyward health`, `keyward metrics`, `keyward whoami` and `keyward evidence verify`: the server's
// liveness, its Prometheus metrics, who the token is, and a verification of evidence with the server's
// anchors and collateral (nothing consumed or released).
import { dispatch, openAdmin, output, parseCommand, printFields, readJsonFile, type Subcommand } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number | string;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of Prometheus text exposition; values that JSON cannot hold (NaN, ±Inf) stay strings. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k!] = v!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const n = Number(m[3]);
    samples.push({ name: m[1]!, labels, value: Number.isFinite(n) ? n : m[3]! });
  }
  return samples;
}

export async function healthCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(args, {}, { min: 0, max: 0, names: '' });
  const admin = openAdmin();
  return output(io, values, await admin.request('GET', '/healthz', undefined, { auth: false }), (h: { status: string }) => io.out(`${admin.baseUrl}: ${h.status}\n`));
}

export async function metricsCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(args, {}, { min: 0, max: 0, names: '' });
  const answer = await openAdmin().request('GET', '/metrics', undefined, { auth: false });
  // The exposition format is already for people; --json turns it into {"samples": [{name, labels, value}]}.
  io.out(values['json'] ? `${JSON.stringify({ samples: parsePrometheus(answer.text) })}\n` : answer.text);
  return 0;
}

export async function whoamiCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(args, {}, { min: 0, max: 0, names: '' });
  const answer = await openAdmin().request('GET', '/v1/auth/me');
  return output(io, values, answer, (me: { userId: string; name: string; via: string; platformRole: string | null; tenants: { tenant: string; role: string }[]; passkeys: number }) =>
    printFields(io, [
      ['user', `${me.name} (${me.userId})`],
      ['via', me.via],
      ['platform role', me.platformRole ?? 'none'],
      ['tenants', me.tenants.map((t) => `${t.tenant}:${t.role}`)],
      ['passkeys', me.passkeys],
    ]),
  );
}

const verify: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, { nonce: { type: 'string' }, at: { type: 'string' } }, { min: 1, max: 1, names: 'the evidence file' });
  const parsed = readJsonFile(positionals[0]!, 'the evidence file');
  // The JSON `keyward dev evidence` prints (POST /v1/attest's body) carries the items in `evidence`.
  const evidence = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && 'evidence' in parsed ? (parsed as { evidence: unknown }).evidence : parsed;
  if (values['nonce'] !== undefined && !/^[0-9a-fA-F]{2,1024}$/.test(String(values['nonce']))) throw new UsageError('--nonce must be hex');
  const body = { evidence, ...(typeof values['nonce'] === 'string' ? { nonce: values['nonce'] } : {}), ...(typeof values['at'] === 'string' ? { at: values['at'] } : {}) };
  const answer = await admin.request('POST', '/v1/evidence/verify', body);
  const verdict = answer.json as { verified: boolean; tee?: string; claims?: unknown; error?: { code: string; message: string } };
  output(io, values, answer, () =>
    verdict.verified
      ? io.out(`verified: ${verdict.tee}\nclaims:\n${JSON.stringify(verdict.claims, null, 2)}\n`)
      : io.out(`NOT verified: ${verdict.error?.code}: ${verdict.error?.message}\n`),
  );
  return verdict.verified ? 0 : 1;
};

export function evidenceCommand(args: string[], io: CliIo): Promise<number> {
  return dispatch('evidence', { verify }, args, io);
}
