// NRAS attestation results: the detached EAT `[["JWT", overall], {"GPU-0": jwt, ...}]`, ES384 JWTs
// verified with a key from the JWKS collateral (RFC 7515/7519; NVIDIA NRAS API v3/v4 response format).
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { EvidenceError, type EvidenceErrorCode } from '../../errors.js';
import { checkValidity, isIssuedBy, parseCertificate, type Certificate } from '../pki.js';
import type { TrustAnchor, VerifyContext } from '../types.js';

/** The production NRAS issuer; staging (`https://nras.attestation-stg.nvidia.com`) is refused. */
export const NRAS_ISSUER = 'https://nras.attestation.nvidia.com';
const DEVICE_NAME_RE = /^(GPU|SWITCH)-\d{1,3}$/;
const MAX_DEVICES = 64;

export interface DetachedEat {
  readonly overall: string;
  /** [name, compact JWT], sorted by kind then number. */
  readonly devices: readonly (readonly [string, string])[];
}

export interface NrasKey {
  readonly kid: string;
  readonly key: KeyObject;
  readonly spkiSha256: string;
  /** Validity of the key's x5c chain (unbounded when the JWK has no x5c), epoch ms. */
  readonly validFromMs: number;
  readonly validUntilMs: number;
  /** What makes the key trusted: the key itself as a configured or admin-trusted anchor, or a root its x5c reaches. */
  readonly anchor: TrustAnchor;
}

function fail(code: EvidenceErrorCode, message: string, cause?: unknown): never {
  throw new EvidenceError(code, message, cause === undefined ? {} : { cause });
}

function isCompactJws(value: unknown): value is string {
  return typeof value === 'string' && value.length < 65_536 && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}

function deviceOrder(a: string, b: string): number {
  const [ka, na] = a.split('-');
  const [kb, nb] = b.split('-');
  return ka === kb ? Number(na) - Number(nb) : (ka as string).localeCompare(kb as string);
}

/** Parses the detached EAT JSON text that NRAS returns. */
export function parseDetachedEat(token: string): DetachedEat {
  let doc: unknown;
  try {
    doc = JSON.parse(token);
  } catch (cause) {
    fail('ERR_NRAS_MALFORMED', 'The NRAS result is not JSON (expected the detached EAT array).', cause);
  }
  if (!Array.isArray(doc) || doc.length !== 2) fail('ERR_NRAS_MALFORMED', 'The NRAS result must be [["JWT", overall], {device: jwt}].');
  const [head, map] = doc as [unknown, unknown];
  if (!Array.isArray(head) || head.length !== 2 || head[0] !== 'JWT' || !isCompactJws(head[1])) {
    fail('ERR_NRAS_MALFORMED', 'The NRAS result does not start with ["JWT", <overall token>].');
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) fail('ERR_NRAS_MALFORMED', 'The NRAS device tokens are not an object.');
  const devices = Object.entries(map as Record<string, unknown>);
  if (devices.length === 0 || devices.length > MAX_DEVICES) fail('ERR_NRAS_MALFORMED', `The NRAS result must name 1..${MAX_DEVICES} devices.`);
  for (const [name, jwt] of devices) {
    if (!DEVICE_NAME_RE.test(name) || !isCompactJws(jwt)) fail('ERR_NRAS_MALFORMED', `The NRAS device entry "${name.slice(0, 16)}" is malformed.`);
  }
  return { overall: head[1] as string, devices: (devices as [string, string][]).sort((a, b) => deviceOrder(a[0], b[0])) };
}

/** Decodes without verifying, to refuse foreign issuers and unsupported algorithms early (never to accept). */
export function peekToken(jwt: string): { alg: string; kid: string; iss: string } {
  try {
    const header = decodeProtectedHeader(jwt);
    const payload = decodeJwt(jwt);
    return { alg: String(header.alg ?? ''), kid: String(header.kid ?? ''), iss: String(payload.iss ?? '') };
  } catch (cause) {
    fail('ERR_NRAS_MALFORMED', 'An NRAS token could not be decoded.', cause);
  }
}

interface X5cFacts {
  readonly from: number;
  readonly until: number;
  readonly certs: readonly Certificate[];
}

/** An anchor trusted to sign NRAS results whose certificate is, or issued, a certificate of the x5c chain. */
function x5cAnchorOf(certs: readonly Certificate[], ctx: VerifyContext): TrustAnchor | undefined {
  return ctx.anchors.all.find((anchor) => {
    if (!anchor.certificate || !anchor.roles.includes('nvidia-nras-signer')) return false;
    const root = parseCertificate(anchor.certificate);
    return certs.some((c) => c.spkiSha256 === root.spkiSha256 || isIssuedBy(c, root, ctx.memo));
  });
}

function checkX5c(jwk: JWK, spki: Buffer, ctx: VerifyContext): X5cFacts {
  if (jwk.x5c === undefined) return { from: -Infinity, until: Infinity, certs: [] };
  if (!Array.isArray(jwk.x5c) || jwk.x5c.length === 0) fail('ERR_NRAS_KEY_INVALID', 'The NRAS key has an empty x5c.');
  let certs: Certificate[];
  try {
    certs = jwk.x5c.map((b64) => parseCertificate(new Uint8Array(Buffer.from(b64, 'base64'))));
  } catch (cause) {
    fail('ERR_NRAS_KEY_INVALID', 'The NRAS key x5c holds an unreadable certificate.', cause);
  }
  const leafSpki = certs[0]?.x509.publicKey.export({ type: 'spki', format: 'der' });
  if (!leafSpki || !spki.equals(leafSpki)) fail('ERR_NRAS_KEY_INVALID', 'The NRAS key does not match its x5c certificate.');
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!isIssuedBy(certs[i] as Certificate, certs[i + 1] as Certificate, ctx.memo)) fail('ERR_NRAS_KEY_INVALID', 'The NRAS key x5c is not a chain.');
  }
  for (const cert of certs) checkValidity(cert, ctx.now);
  return { from: Math.max(...certs.map((c) => c.notBefore.getTime())), until: Math.min(...certs.map((c) => c.notAfter.getTime())), certs };
}

/** Checks one candidate JWK and imports it; the trust decision is left to resolveNrasKeys. */
function importCandidate(jwk: JWK, kid: string, ctx: VerifyContext): Omit<NrasKey, 'anchor'> & { readonly certs: readonly Certificate[] } {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-384' || jwk.d !== undefined || (jwk.alg !== undefined && jwk.alg !== 'ES384') || (jwk.use !== undefined && jwk.use !== 'sig')) {
    fail('ERR_NRAS_KEY_INVALID', 'The NRAS key is not an EC P-384 public signing key.');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-384', x: jwk.x as string, y: jwk.y as string }, format: 'jwk' });
  } catch (cause) {
    fail('ERR_NRAS_KEY_INVALID', 'The NRAS key could not be imported.', cause);
  }
  const spki = key.export({ type: 'spki', format: 'der' });
  const x5c = checkX5c(jwk, spki, ctx);
  return { kid, key, spkiSha256: createHash('sha256').update(spki).digest('hex'), validFromMs: x5c.from, validUntilMs: x5c.until, certs: x5c.certs };
}

/**
 * The trusted signing keys for `kid`: every JWK with that kid in the JWKS collateral or among the anchors,
 * each an EC P-384 public key for ES384; with x5c, the first certificate holds the same key, each is signed
 * by the next, all valid at `now`. NVIDIA publishes no NRAS root to pin, so a key is trusted only when it
 * is itself an anchor for `nvidia-nras-signer` (a JWKS configured at start, or one a platform admin
 * trusted), or its x5c reaches such an anchor. Collateral alone never makes a key trusted: anyone who may
 * upload collateral could otherwise sign results that pass for NVIDIA's.
 */
export function resolveNrasKeys(kid: string, ctx: VerifyContext): NrasKey[] {
  const jwks = [...ctx.collateral.jwks.flatMap((set) => set.keys), ...ctx.anchors.all.flatMap((a) => (a.jwk ? [a.jwk] : []))];
  const candidates = jwks.filter((k) => k.kid === kid);
  if (candidates.length === 0) fail('ERR_COLLATERAL_MISSING', `The NRAS signing key "${kid.slice(0, 96)}" is not in the JWKS collateral.`);
  const trusted: NrasKey[] = [];
  let firstError: unknown;
  let untrusted = false;
  for (const jwk of candidates) {
    let imported: ReturnType<typeof importCandidate>;
    try {
      imported = importCandidate(jwk, kid, ctx);
    } catch (err) {
      firstError ??= err;
      continue;
    }
    const { certs, ...key } = imported;
    const anchor = ctx.anchors.lookup(key.spkiSha256, 'nvidia-nras-signer') ?? x5cAnchorOf(certs, ctx);
    if (!anchor) untrusted = true;
    else if (!trusted.some((t) => t.spkiSha256 === key.spkiSha256)) trusted.push({ ...key, anchor });
  }
  if (trusted.length > 0) return trusted;
  if (untrusted) fail('ERR_NRAS_SIGNER_UNTRUSTED', `The NRAS signing key "${kid.slice(0, 96)}" is not a trusted signer (configure it in KEYWARD_EXTRA_ANCHORS or have an admin trust it).`);
  throw firstError;
}

/** Verifies one NRAS JWT: ES384 only, production issuer, `now` within nbf..exp. */
export async function verifyNrasJwt(jwt: string, ctx: VerifyContext): Promise<{ payload: JWTPayload; key: NrasKey }> {
  const peek = peekToken(jwt);
  if (peek.iss !== NRAS_ISSUER) fail('ERR_NRAS_ISSUER_UNTRUSTED', `The NRAS token was issued by "${peek.iss.slice(0, 96)}", not ${NRAS_ISSUER}.`);
  if (peek.alg !== 'ES384') fail('ERR_NRAS_ALGORITHM_UNSUPPORTED', `NRAS tokens must be ES384, not "${peek.alg.slice(0, 16)}".`);
  const keys = resolveNrasKeys(peek.kid, ctx);
  // Two trusted keys under one kid are tried in turn: a bad signature from the first is not the verdict.
  for (const key of keys.slice(0, -1)) {
    try {
      return await verifyWith(jwt, key, ctx);
    } catch (err) {
      if (!(err instanceof EvidenceError && err.code === 'ERR_NRAS_SIGNATURE_INVALID')) throw err;
    }
  }
  return verifyWith(jwt, keys[keys.length - 1] as NrasKey, ctx);
}

async function verifyWith(jwt: string, key: NrasKey, ctx: VerifyContext): Promise<{ payload: JWTPayload; key: NrasKey }> {
  try {
    const { payload } = await jwtVerify(jwt, key.key, {
      algorithms: ['ES384'],
      issuer: NRAS_ISSUER,
      currentDate: ctx.now,
      requiredClaims: ['exp', 'nbf'],
    });
    return { payload, key };
  } catch (cause) {
    if (cause instanceof joseErrors.JWSSignatureVerificationFailed) fail('ERR_NRAS_SIGNATURE_INVALID', 'An NRAS token signature does not verify.', cause);
    if (cause instanceof joseErrors.JWTExpired) fail('ERR_NRAS_TOKEN_EXPIRED', 'An NRAS token has expired.', cause);
    if (cause instanceof joseErrors.JWTClaimValidationFailed && cause.claim === 'nbf') {
      fail('ERR_NRAS_TOKEN_NOT_YET_VALID', 'An NRAS token is not valid yet.', cause);
    }
    fail('ERR_NRAS_MALFORMED', 'An NRAS token is malformed.', cause);
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'ascii').digest('hex');
}
