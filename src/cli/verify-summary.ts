// The human-readable verdict of `keyward verify` (without --json): tee, anchor and the key claims of each
// TEE, or the error code and message. The JSON form carries everything; this is for a person at a terminal.
import type { CompositeClaims, EvidenceCheckResult } from '../broker/evidence-check.js';
import type { Claims } from '../evidence/claims.js';

/** The claims worth a line each, per TEE, in display order (the rest are in --json). */
const KEY_CLAIMS: Record<Claims['tee'], readonly string[]> = {
  snp: ['product', 'reportVersion', 'signer', 'measurement', 'reportData', 'hostData', 'chipId', 'vmpl', 'debug', 'reportedTcb', 'cspId'],
  tdx: ['quoteVersion', 'tcbStatus', 'advisoryIds', 'fmspc', 'mrTd', 'rtmr', 'mrSeam', 'reportData', 'debug', 'tdxModuleId'],
  sgx: ['quoteVersion', 'tcbStatus', 'advisoryIds', 'fmspc', 'mrEnclave', 'mrSigner', 'isvProdId', 'isvSvn', 'reportData', 'debug'],
  'nvidia-gpu': ['source', 'deviceType', 'chip', 'arch', 'driverVersion', 'vbiosVersion', 'measurements', 'rim', 'revocation', 'nonce', 'debug'],
  nitro: ['moduleId', 'pcrs', 'nonce', 'userData', 'publicKey', 'timestamp', 'debug'],
};

/** Longer values (user data, certificates) are cut in this view; --json has them whole. */
const MAX_SHOWN = 128;

function render(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '(empty)' : value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}… (${value.length} chars)` : value;
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map(render).join(', ');
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
      .join(' ');
  }
  return String(value);
}

function claimLines(claims: Claims, indent: string): string[] {
  const record = claims as unknown as Record<string, unknown>;
  const { anchor } = claims;
  const lines = [
    `${indent}tee            ${claims.tee}`,
    `${indent}anchor         ${anchor.source}: ${anchor.name} (SPKI SHA-256 ${anchor.spki})${claims.simulated ? ', SIMULATED' : ''}`,
    `${indent}revocation     ${claims.revocationChecked ? 'checked' : 'NOT CHECKED (no current CRL or OCSP answer given)'}`,
  ];
  for (const key of KEY_CLAIMS[claims.tee]) {
    if (record[key] === undefined) continue;
    const value = key === 'pcrs' ? Object.fromEntries(Object.entries(record[key] as object).filter(([i]) => Number(i) <= 2 || Number(i) === 8)) : record[key];
    lines.push(`${indent}${key.padEnd(15)}${render(value)}`);
  }
  const devices = record['devices'];
  if (Array.isArray(devices) && devices.length > 1) lines.push(`${indent}devices        ${devices.length} (see --json)`);
  return lines;
}

function isComposite(claims: Claims | CompositeClaims): claims is CompositeClaims {
  return Array.isArray((claims as CompositeClaims).items);
}

/** A few lines for a terminal: VERIFIED with key claims, or NOT VERIFIED with the code and message. */
export function summarizeVerdict(result: EvidenceCheckResult, now: Date): string {
  if (!result.verified) {
    const lines = [`NOT VERIFIED at ${now.toISOString()}: ${result.error.code}`, `  ${result.error.message}`];
    if (result.error.details) lines.push(`  details: ${JSON.stringify(result.error.details)}`);
    return `${lines.join('\n')}\n`;
  }
  const { claims } = result;
  if (!isComposite(claims)) return `${[`VERIFIED at ${now.toISOString()}`, ...claimLines(claims, '  ')].join('\n')}\n`;
  const lines = [`VERIFIED at ${now.toISOString()}: a composite set of ${claims.items.length} items`];
  claims.items.forEach((item, i) => lines.push(`  [${i}]`, ...claimLines(item, '    ')));
  if (claims.topology) lines.push(`  gpu topology   ${render(claims.topology)}`);
  return `${lines.join('\n')}\n`;
}
