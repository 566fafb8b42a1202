// `keyward verify`: offline evidence verification (docs/verify.md). Reads evidence and collateral files,
// verifies at --at (or now) against the pinned vendor roots plus KEYWARD_EXTRA_ANCHORS, prints the verdict.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceCheckInput, EvidenceCheckResult } from '../broker/evidence-check.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { fromHex } from '../encoding.js';
import { EvidenceError, KeywardError } from '../errors.js';
import { vendorAnchors } from '../evidence/anchors.js';
import { EVIDENCE_TYPES, type Collateral, type EvidenceType, type TrustAnchors } from '../evidence/types.js';
import { parseOptions, UsageError, type CliIo } from './main.js';
import { summarizeVerdict } from './verify-summary.js';

export const VERIFY_HELP = `usage:
  verify --evidence FILE [--type TYPE] [--collateral PATH]... [--at RFC3339] [--nonce HEX]
         [--require-revocation] [--json]

Verifies attestation evidence offline against the pinned vendor roots (and KEYWARD_EXTRA_ANCHORS, if set).

  --evidence FILE    the evidence as the hardware produces it: an SEV-SNP report (1184 bytes), a TDX or
                     SGX DCAP quote, an NVIDIA attestation report (SPDM GET_MEASUREMENTS request and
                     response), an NRAS result (detached EAT JSON), a Nitro attestation document
                     (COSE_Sign1). Or JSON in the release protocol's wire form: one item {"type": ...},
                     or a composite set {"evidence": [...]} that verifies only as a whole.
  --type TYPE        snp | tdx | sgx | nvidia-gpu | nvidia-nras | nitro (default: detected by content)
  --collateral PATH  a file, or a directory read recursively; repeatable. Every file is recognized by
                     its content: certificates and CRLs (PEM or DER), SEV-SNP certificate tables, OCSP
                     responses, Intel TCB Info and QE Identity JSON, NVIDIA RIMs, JWK sets (NRAS
                     keys; trusted only from KEYWARD_EXTRA_ANCHORS, which also takes JWK sets).
                     snp: the VCEK/VLEK and AMD's cert_chain are taken from here when the report
                     carries no certificates.
                     nvidia-gpu (a raw report): the device certificate chain is assembled from the
                     collateral certificates: the leaf is a certificate that issued none of the others
                     (with several chains, the one whose key verifies the report's signature), then
                     its issuers by name. Pass the device_cert_chain PEM file here.
  --at RFC3339       the instant to verify at (default: now), e.g. 2025-01-31T12:00:00Z
  --nonce HEX        the expected freshness: REPORT_DATA (64 bytes) for snp, tdx and sgx; the SPDM
                     request nonce (32 bytes) for nvidia-gpu and nvidia-nras; the document's nonce for
                     nitro. For a composite set: the 64-byte release binding (GPUs compare its first 32
                     bytes); without --nonce every item of a set must carry the same binding.
  --require-revocation
                     refuse evidence whose certificates lack a current CRL or OCSP answer in the
                     collateral (ERR_COLLATERAL_MISSING). Without it, CRLs and OCSP answers are checked
                     whenever given, and missing ones leave "revocationChecked": false in the claims.
  --json             print exactly one JSON object: {"verified": true, "tee": ..., "claims": {...}} or
                     {"verified": false, "error": {"code": "ERR_...", "message": ...}}

exit status: 0 verified, 1 not verified, 2 usage error (nothing on stdout)
`;

const OPTIONS = {
  evidence: { type: 'string' },
  type: { type: 'string' },
  collateral: { type: 'string', multiple: true },
  at: { type: 'string' },
  nonce: { type: 'string' },
  'require-revocation': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date-time; calendar-impossible values (Feb 30, hour 24) are refused rather than rolled over. */
export function parseInstant(text: string): Date {
  const m = RFC3339.exec(text);
  const at = m ? new Date(text.toUpperCase()) : undefined;
  if (!m || !at || Number.isNaN(at.getTime())) throw new UsageError(`--at must be an RFC 3339 date-time such as 2025-01-31T12:00:00Z; got "${text}".`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day || Number(m[4]) > 23) {
    throw new UsageError(`--at names a date-time that does not exist: "${text}".`);
  }
  return at;
}

/** The expected nonce: non-empty hex, at most 512 bytes (the largest freshness field, Nitro's nonce). */
export function parseNonce(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (!bytes || bytes.length === 0 || bytes.length > 512) {
    throw new UsageError(`--nonce must be an even number of hex digits (1 to 512 bytes); got "${text.slice(0, 80)}".`);
  }
  return bytes;
}

function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Every file under `path` (sorted, recursive); each directory visited once, so symlink loops end. */
function filesUnder(path: string, seen: Set<string>): string[] {
  try {
    if (!statSync(path).isDirectory()) return [path];
    const real = realpathSync(path);
    if (seen.has(real)) return [];
    seen.add(real);
    return readdirSync(path)
      .sort()
      .flatMap((name) => filesUnder(join(path, name), seen));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read --collateral ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Reads and recognizes every collateral file; an unreadable or unrecognized file is a usage error naming it. */
export async function loadCollateral(paths: readonly string[]): Promise<Collateral> {
  const { addToCollateral, emptyCollateral, recognizeCollateral } = await import('../collateral/recognize.js');
  let bag = emptyCollateral();
  const seen = new Set<string>();
  for (const file of paths.flatMap((p) => filesUnder(p, seen))) {
    const bytes = readInput(file, '--collateral');
    try {
      bag = addToCollateral(bag, recognizeCollateral(bytes, file));
    } catch (err) {
      if (err instanceof KeywardError) throw new UsageError(`--collateral ${err.message}`);
      throw err;
    }
  }
  return bag;
}

/** Vendor pins plus KEYWARD_EXTRA_ANCHORS (the service's loader, imported only when extras are configured). */
async function loadAnchors(io: CliIo): Promise<TrustAnchors> {
  try {
    const dir = loadConfig().extraAnchorsDir;
    if (!dir) return vendorAnchors();
    const anchors = (await import('../service.js')).loadExtraAnchors(dir);
    const extra = anchors.all.filter((a) => a.source === 'extra').map((a) => `${a.name} (${a.spkiSha256})`);
    if (extra.length > 0) io.err(`keyward verify: EXTRA TRUST ANCHORS from ${dir}: ${extra.join(', ')}\n`);
    return anchors;
  } catch (err) {
    if (err instanceof KeywardError) throw new UsageError(err.message);
    throw err;
  }
}

export function parseEvidenceType(value: string | undefined): EvidenceType | undefined {
  if (value === undefined) return undefined;
  if (!(EVIDENCE_TYPES as readonly string[]).includes(value)) throw new UsageError(`--type must be one of ${EVIDENCE_TYPES.join(', ')}; got "${value}".`);
  return value as EvidenceType;
}

function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(args, OPTIONS);
  if (values['help']) {
    io.out(VERIFY_HELP);
    return 0;
  }
  const file = stringOption(values['evidence']);
  if (!file) throw new UsageError('--evidence FILE is required.');
  const type = parseEvidenceType(stringOption(values['type']));
  const at = stringOption(values['at']);
  const now = at === undefined ? systemClock.now() : parseInstant(at);
  const nonceText = stringOption(values['nonce']);
  const expectedNonce = nonceText === undefined ? undefined : parseNonce(nonceText);
  const collateralPaths = ((values['collateral'] as string[] | undefined) ?? []).filter((p) => typeof p === 'string');
  const bytes = readInput(file, '--evidence');
  const anchors = await loadAnchors(io);
  const collateral = await loadCollateral(collateralPaths);

  // The verifiers load only now: --help and usage errors answer without them.
  const [{ checkEvidence, evidenceFailure }, { readEvidence }] = await Promise.all([import('../broker/evidence-check.js'), import('./evidence-input.js')]);
  let result: EvidenceCheckResult;
  try {
    const evidence = readEvidence(bytes, type, collateral, file);
    const input: EvidenceCheckInput = expectedNonce ? { evidence, expectedNonce } : { evidence };
    // Offline, old evidence outlives every CRL: revocation is checked when answers are given, required only on request.
    const revocation = values['require-revocation'] ? 'required' : 'optional';
    result = await checkEvidence(input, { collateral, anchors, now, revocation });
  } catch (err) {
    // A wire-form item that does not decode is a verdict on the evidence, reported like any other.
    if (!(err instanceof EvidenceError)) throw err;
    result = evidenceFailure(err);
  }
  io.out(values['json'] ? `${JSON.stringify(result)}\n` : summarizeVerdict(result, now));
  return result.verified ? 0 : 1;
}
