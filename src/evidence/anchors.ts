// Trust anchors: the vendor roots keyward pins by SPKI SHA-256 (docs/design.md "Evidence and claims"), plus
// explicit extras.
import { createHash, X509Certificate } from 'node:crypto';
import { EvidenceError } from '../errors.js';
import type { AnchorRole, SnpProduct, TrustAnchor, TrustAnchors } from './types.js';

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
  'aws-nitro-root',
];

export function spkiSha256(cert: X509Certificate): string {
  return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

function commonName(subject: string): string {
  const cn = subject.split('\n').find((part) => part.startsWith('CN='));
  return cn ? cn.slice(3) : subject.replace(/\n/g, ', ');
}

/** An extra anchor's display name: its CN and, when present, its O ("ARK-Milan (keyward SIMULATED)"). */
function extraAnchorName(subject: string): string {
  const o = subject.split('\n').find((part) => part.startsWith('O='));
  const cn = commonName(subject);
  return o && o.length > 2 ? `${cn} (${o.slice(2)})` : cn;
}

class AnchorSet implements TrustAnchors {
  readonly all: readonly TrustAnchor[];
  private readonly bySpki = new Map<string, TrustAnchor>();

  constructor(anchors: readonly TrustAnchor[]) {
    this.all = anchors;
    for (const anchor of anchors) {
      // A pinned vendor root always wins over an extra anchor with the same key.
      const existing = this.bySpki.get(anchor.spkiSha256);
      if (!existing || existing.source === 'extra') this.bySpki.set(anchor.spkiSha256, anchor);
    }
  }

  lookup(spki: string, role: AnchorRole): TrustAnchor | undefined {
    const anchor = this.bySpki.get(spki.toLowerCase());
    return anchor && anchor.roles.includes(role) ? anchor : undefined;
  }
}

/** The pinned vendor roots only. */
export function vendorAnchors(): TrustAnchors {
  return createTrustAnchors([]);
}

/**
 * Vendor roots plus extra roots (DER certificates, e.g. read from KEYWARD_EXTRA_ANCHORS). Extra roots
 * are trusted for every role and are marked `source: "extra"` in every claim that chains to them.
 */
export function createTrustAnchors(extraRootsDer: readonly Uint8Array[]): TrustAnchors {
  const anchors: TrustAnchor[] = PINNED_ROOTS.map((root) => ({
    name: root.name,
    spkiSha256: root.spkiSha256,
    source: 'vendor' as const,
    roles: [root.role],
    ...(root.product ? { product: root.product } : {}),
  }));
  for (const der of extraRootsDer) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch (cause) {
      throw new EvidenceError('ERR_CHAIN_MALFORMED', 'An extra trust anchor is not an X.509 certificate.', { cause });
    }
    anchors.push({
      // The organization shows who minted a look-alike root (a simulator says SIMULATED there).
      name: extraAnchorName(cert.subject),
      spkiSha256: spkiSha256(cert),
      source: 'extra',
      roles: ALL_ROLES,
      certificate: new Uint8Array(cert.raw),
    });
  }
  return new AnchorSet(anchors);
}
