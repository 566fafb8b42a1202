// `keyward import`, `keyward member role|reenrol` and `keyward platform invite` (docs/governance.md): per-key BYOK import with
// single-use import parameters, and member changes under the tenant's quorum (a 202 names the approval).
import { readFileSync } from 'node:fs';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { consoleBase, openAdmin, output, parseCommand, printFields, required, seg } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

const IMPORT_ALGS = ['RSA-OAEP-256', 'ECDH-ES+A256KW'] as const;

interface ImportParams {
  readonly publicKey: JWK;
  readonly importToken: string;
  readonly expiresAt: string;
}

/** The material to import: 16 to 64 raw bytes from a file. */
function readMaterial(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new UsageError(`cannot read --file ${path}: ${(err as Error).message}`);
  }
  if (bytes.length < 16 || bytes.length > 64) throw new UsageError(`--file must hold 16 to 64 bytes of key material, it holds ${bytes.length}`);
  return bytes;
}

/** A compact JWE of `material` to the import key, its protected header binding it to the import token. */
async function bindMaterial(params: ImportParams, material: Uint8Array): Promise<string> {
  const alg = String(params.publicKey.alg);
  try {
    return await new CompactEncrypt(material)
      .setProtectedHeader({ alg, enc: 'A256GCM', kid: String(params.publicKey.kid), importToken: params.importToken })
      .encrypt(await importJWK(params.publicKey, alg));
  } finally {
    material.fill(0);
  }
}

/** `keyward import KEY_ID --file FILE [--alg A]`: import parameters, then the bound JWE, as the key's new version. */
export async function importCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(args, { file: { type: 'string' }, alg: { type: 'string' } }, { min: 1, max: 1, names: 'the key id' });
  const alg = values['alg'] ?? 'RSA-OAEP-256';
  if (!(IMPORT_ALGS as readonly unknown[]).includes(alg)) throw new UsageError(`--alg must be ${IMPORT_ALGS.join(' or ')}`);
  const material = readMaterial(required(values, 'file'));
  const admin = openAdmin();
  const key = seg(positionals[0]!);
  const params = (await admin.request('POST', `/v1/keys/${key}/import-params`, { alg })).json as ImportParams;
  const jwe = await bindMaterial(params, material);
  return output(io, values, await admin.request('POST', `/v1/keys/${key}/import`, { jwe }), (k: { id: string; version: number }) =>
    printFields(io, [['id', k.id], ['version', k.version], ['origin', 'imported (per-key import token, single use)']]),
  );
}

function printPending(io: CliIo, what: string, approval: { id: string }): void {
  io.out(`${what} needs approvals: approval ${approval.id} (keyward approval show ${approval.id})\n`);
}

/** `keyward member role|reenrol`: member changes under the tenant's quorum. */
export async function memberCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const admin = openAdmin();
  switch (sub) {
    case 'role': {
      const { values, positionals } = parseCommand(rest, {}, { min: 3, max: 3, names: 'TENANT USER_ID owner|auditor' });
      const role = positionals[2]!;
      if (role !== 'owner' && role !== 'auditor') throw new UsageError('the role must be owner or auditor');
      const answer = await admin.request('PATCH', `/v1/tenants/${seg(positionals[0]!)}/members/${seg(positionals[1]!)}`, { role });
      return output(io, values, answer, (json: { userId?: string; role?: string; approval?: { id: string } }) =>
        json.approval ? printPending(io, 'the role change', json.approval) : printFields(io, [['user', json.userId], ['role', json.role]]),
      );
    }
    case 'reenrol': {
      const { values, positionals } = parseCommand(rest, {}, { min: 2, max: 2, names: 'TENANT USER_ID' });
      const answer = await admin.request('POST', `/v1/tenants/${seg(positionals[0]!)}/members/${seg(positionals[1]!)}/enrolment`);
      return output(io, values, answer, (json: { userId: string; enrolmentCode: string; expiresAt?: string; approval?: { id: string } }) => {
        printFields(io, [['user', json.userId], ['enrolment code', json.enrolmentCode], ['expires', json.expiresAt]]);
        if (json.approval) printPending(io, 'the code works once the re-enrolment is approved; it', json.approval);
        else io.out(`hand the code to the person; they register a passkey with it at ${consoleBase(admin)}/console/ (single use)\n`);
      });
    }
    default:
      throw new UsageError('member needs a subcommand: role or reenrol');
  }
}

/** `keyward platform invite --name N --role admin|operator`: a platform person's single-use enrolment code. */
export async function platformCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'invite') throw new UsageError('platform needs a subcommand: invite');
  const { values } = parseCommand(rest, { name: { type: 'string' }, role: { type: 'string' } }, { min: 0, max: 0, names: '' });
  const role = required(values, 'role');
  if (role !== 'admin' && role !== 'operator') throw new UsageError('--role must be admin or operator');
  const admin = openAdmin();
  const answer = await admin.request('POST', '/v1/platform/members', { name: required(values, 'name'), role });
  return output(io, values, answer, (json: { userId: string; enrolmentCode: string; expiresAt: string }) => {
    printFields(io, [['user', json.userId], ['enrolment code', json.enrolmentCode], ['expires', json.expiresAt]]);
    io.out(`hand the code to the person; they register a passkey with it at ${consoleBase(admin)}/console/ (single use)\n`);
  });
}
