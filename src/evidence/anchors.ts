// Trust anchors: the vendor roots keyward pins by SPKI SHA-256 (docs/design.md "Evidence and claims"), extras
// configured at start (roots, and NRAS signing keys as JWK sets), and uploads a platform admin trusted
// (docs/trust.md).
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import type { JWK } from 'jose';
import { EvidenceError } from '../errors.js';
import type { AnchorClaim } from './claims.js';
import type { AnchorRole, AnchorSource, SnpProduct, TrustAnchor, TrustAnchors } from './types.js';

interface PinnedRoot {
  readonly name: string;
  readonly spkiSha256: string;
  readonly role: AnchorRole;
  readonly product?: SnpProduct;
}

/** Public facts: the SubjectPublicKeyInfo hashes of the vendor roots (docs/design.md "Evidence and claims"). */
const PINNED_ROOTS: readonly PinnedRoot[] = [
  { name: 'AMD ARK-Milan', spkiSha256: '9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9', role: 'amd-ark', product: 'Milan' },
  { name: 'AMD ARK-Genoa', spkiSha256: '429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831', role: 'amd-ark', product: 'Genoa' },
  { name: 'AMD ARK-Turin', spkiSha256: '4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08', role: 'amd-ark', product: 'Turin' },
  { name: 'Intel SGX Root CA', spkiSha256: 'a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e', role: 'intel-sgx-root' },
  { name: 'NVIDIA Device Identity CA', spkiSha256: 'a90c4eb5acfd3e3d03a25db6a26b84f720ad0503196c627c21ddd48dd85b06a4', role: 'nvidia-device-identity' },
  { name: 'NVIDIA CoRIM signing Root CA', spkiSha256: 'dec1dc316477aa851eebdf51327ae9f864bc8d89254657ed1e7eb9168af1e1a3', role: 'nvidia-corim-root' },
  { name: 'AWS Nitro Enclaves Root-G1', spkiSha256: 'f2caf5ecc6190b4a8399b78bc58a2bbcd0382375db8a1bfd78a82743874fd225', role: 'aws-nitro-root' },
];

const ALL_ROLES: readonly AnchorRole[] = [
  'amd-ark',
  'intel-sgx-root',
  'nvidia-device-identity',
  'nvidia-corim-root',
  'nvidia-nras-signer',
  'aws-nitro-root',
];

/** The O= of every certificate of keyward's development CA (src/dev/ca.ts): its roots make claims `simulated`. */
export const DEV_CA_ORGANIZATION = 'keyward SIMULATED';

export function spkiSha256(cert: X509Certificate): string {
  return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

function commonName(subject: string): string {
  const cn = subject.split('\n').find((part) => part.startsWith('CN='));
  return cn ? cn.slice(3) : subject.replace(/\n/g, ', ');
}

function organization(subject: string): string | undefined {
  return subject.split('\n').find((part) => part.startsWith('O='))?.slice(2);
}

/** An extra anchor's display name: its CN and, when present, its O ("ARK-Milan (keyward SIMULATED)"). */
function extraAnchorName(subject: string): string {
  const o = organization(subject);
  const cn = commonName(subject);
  return o ? `${cn} (${o})` : cn;
}

/** Lower is stronger: a verdict is as strong as the weakest anchor it rests on. */
const SOURCE_RANK: Readonly<Record<AnchorSource, number>> = { vendor: 0, extra: 1, uploaded: 2 };

class AnchorSet implements TrustAnchors {
  readonly all: readonly TrustAnchor[];
  private readonly bySpki = new Map<string, TrustAnchor[]>();

  constructor(anchors: readonly TrustAnchor[]) {
    this.all = anchors;
    for (const anchor of anchors) {
      const list = this.bySpki.get(anchor.spkiSha256) ?? [];
      list.push(anchor);
      this.bySpki.set(anchor.spkiSha256, list);
    }
  }

  lookup(spki: string, role: AnchorRole): TrustAnchor | undefined {
    // A pinned vendor root wins over an extra or uploaded anchor with the same key.
    const found = (this.bySpki.get(spki.toLowerCase()) ?? []).filter((a) => a.roles.includes(role));
    return found.sort((a, b) => SOURCE_RANK[a.source] - SOURCE_RANK[b.source])[0];
  }
}

/** The pinned vendor roots only. */
export function vendorAnchors(): TrustAnchors {
  return createTrustAnchors([]);
}

function certificateAnchor(der: Uint8Array, source: 'extra' | 'uploaded'): TrustAnchor {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (cause) {
    throw new EvidenceError('ERR_CHAIN_MALFORMED', 'A trust anchor is not an X.509 certificate.', { cause });
  }
  const simulated = organization(cert.subject)?.includes(DEV_CA_ORGANIZATION) === true;
  return {
    // The organization shows who minted a look-alike root (a simulator says SIMULATED there).
    name: extraAnchorName(cert.subject),
    spkiSha256: spkiSha256(cert),
    source,
    // An uploaded certificate only ever vouches for NRAS signing keys, never for hardware roots.
    roles: source === 'extra' ? ALL_ROLES : ['nvidia-nras-signer'],
    certificate: new Uint8Array(cert.raw),
    ...(simulated ? { simulated } : {}),
  };
}

/** A trusted signing key (from a JWK set): trusted to sign NRAS results, found by its `kid`. */
export function signingKeyAnchor(jwk: JWK, source: 'extra' | 'uploaded'): TrustAnchor {
  let spki: Buffer;
  try {
    if (jwk.d !== undefined || typeof jwk.kid !== 'string') throw new Error('not a public key with a kid');
    spki = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  } catch (cause) {
    throw new EvidenceError('ERR_NRAS_KEY_INVALID', 'A trusted JWK is not a public key with a kid.', { cause });
  }
  return {
    name: `JWKS key ${String(jwk.kid).slice(0, 96)}`,
    spkiSha256: createHash('sha256').update(spki).digest('hex'),
    source,
    roles: ['nvidia-nras-signer'],
    jwk,
  };
}

export interface ExtraTrust {
  /** DER certificates: roots trusted for every role. */
  readonly roots?: readonly Uint8Array[];
  /** Public JWKs trusted to sign NRAS results. */
  readonly signingKeys?: readonly JWK[];
}

/**
 * Vendor roots plus extra anchors configured at start (KEYWARD_EXTRA_ANCHORS): roots trusted for every
 * role, signing keys for NRAS results; every claim that rests on one says `source: "extra"`.
 */
export function createTrustAnchors(extraRootsDer: readonly Uint8Array[], extra: Omit<ExtraTrust, 'roots'> = {}): TrustAnchors {
  const anchors: TrustAnchor[] = PINNED_ROOTS.map((root) => ({
    name: root.name,
    spkiSha256: root.spkiSha256,
    source: 'vendor' as const,
    roles: [root.role],
    ...(root.product ? { product: root.product } : {}),
  }));
  for (const der of extraRootsDer) anchors.push(certificateAnchor(der, 'extra'));
  for (const jwk of extra.signingKeys ?? []) anchors.push(signingKeyAnchor(jwk, 'extra'));
  return new AnchorSet(anchors);
}

/** Anchors from collateral a platform admin trusted: certificates and JWKs, trusted only to sign NRAS results. */
export function uploadedAnchors(trusted: ExtraTrust): TrustAnchor[] {
  return [
    ...(trusted.roots ?? []).map((der) => certificateAnchor(der, 'uploaded')),
    ...(trusted.signingKeys ?? []).map((jwk) => signingKeyAnchor(jwk, 'uploaded')),
  ];
}

/** `base` plus more anchors (an admin's trusted uploads); `base` itself is unchanged. */
export function withAnchors(base: TrustAnchors, more: readonly TrustAnchor[]): TrustAnchors {
  return more.length === 0 ? base : new AnchorSet([...base.all, ...more]);
}

/** The claim naming an anchor (docs/design.md "Claims reference", Anchor: `{source, spki, name}`). */
export function anchorClaim(anchor: TrustAnchor): AnchorClaim {
  return { source: anchor.source, spki: anchor.spkiSha256, name: anchor.name };
}

/** The weakest of the anchors a verdict rests on (uploaded < extra < vendor; the first among equals). */
export function weakestAnchor(anchors: readonly TrustAnchor[]): TrustAnchor {
  if (anchors.length === 0) throw new EvidenceError('ERR_CHAIN_UNTRUSTED_ROOT', 'The verdict rests on no trust anchor.');
  return anchors.reduce((weakest, a) => (SOURCE_RANK[a.source] > SOURCE_RANK[weakest.source] ? a : weakest));
}

/** The claim fields every verifier derives from the anchors its verdict rests on: `anchor` and `simulated`. */
export function anchorFields(anchors: readonly TrustAnchor[]): { anchor: AnchorClaim; simulated: boolean } {
  return { anchor: anchorClaim(weakestAnchor(anchors)), simulated: anchors.some((a) => a.simulated === true) };
}
