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
  /** An extra (non-vendor) anchor the x5c chain reaches, e.g. a simulator's root: its results are not NVIDIA's. */
  readonly extraAnchor?: TrustAnchor;
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
  readonly extraAnchor?: TrustAnchor;
}

/** The configured extra anchor that is, or issued, a certificate of the x5c chain. */
function extraAnchorOf(certs: readonly Certificate[], ctx: VerifyContext): TrustAnchor | undefined {
  return ctx.anchors.all.find((anchor) => {
    if (anchor.source !== 'extra' || !anchor.certificate) return false;
    const root = parseCertificate(anchor.certificate);
    return certs.some((c) => c.spkiSha256 === root.spkiSha256 || isIssuedBy(c, root, ctx.memo));
  });
}

function checkX5c(jwk: JWK, spki: Buffer, ctx: VerifyContext): X5cFacts {
  if (jwk.x5c === undefined) return { from: -Infinity, until: Infinity };
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
  const extraAnchor = extraAnchorOf(certs, ctx);
  return {
    from: Math.max(...certs.map((c) => c.notBefore.getTime())),
    until: Math.min(...certs.map((c) => c.notAfter.getTime())),
    ...(extraAnchor ? { extraAnchor } : {}),
  };
}

/**
 * The signing key for `kid` from the JWKS collateral: EC P-384 public key, for ES384 signing; with x5c,
 * the first certificate must hold the same key, each must be signed by the next, all valid at `now`.
 * No root is pinned: NVIDIA publishes none for NRAS, so trust rests on where the JWKS was fetched. An x5c
 * that reaches a configured extra anchor (a simulator's NRAS) is reported as that anchor.
 */
export function resolveNrasKey(kid: string, ctx: VerifyContext): NrasKey {
  const jwk = ctx.collateral.jwks.flatMap((set) => set.keys).find((k) => k.kid === kid);
  if (!jwk) fail('ERR_COLLATERAL_MISSING', `The NRAS signing key "${kid.slice(0, 96)}" is not in the JWKS collateral.`);
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
  return {
    kid,
    key,
    spkiSha256: createHash('sha256').update(spki).digest('hex'),
    validFromMs: x5c.from,
    validUntilMs: x5c.until,
    ...(x5c.extraAnchor ? { extraAnchor: x5c.extraAnchor } : {}),
  };
}

/** Verifies one NRAS JWT: ES384 only, production issuer, `now` within nbf..exp. */
export async function verifyNrasJwt(jwt: string, ctx: VerifyContext): Promise<{ payload: JWTPayload; key: NrasKey }> {
  const peek = peekToken(jwt);
  if (peek.iss !== NRAS_ISSUER) fail('ERR_NRAS_ISSUER_UNTRUSTED', `The NRAS token was issued by "${peek.iss.slice(0, 96)}", not ${NRAS_ISSUER}.`);
  if (peek.alg !== 'ES384') fail('ERR_NRAS_ALGORITHM_UNSUPPORTED', `NRAS tokens must be ES384, not "${peek.alg.slice(0, 16)}".`);
  const key = resolveNrasKey(peek.kid, ctx);
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
