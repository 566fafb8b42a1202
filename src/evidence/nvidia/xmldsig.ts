// XML-DSig algorithms NVIDIA RIMs use that xml-crypto does not register itself (W3C XMLDSig 1.1 §6,
// RFC 6931): ecdsa-sha384 with raw r‖s SignatureValue, SHA-384 digests, and Canonical XML 1.1.
import { KeyObject, createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyLike } from 'node:crypto';
import { C14nCanonicalization, SignedXml } from 'xml-crypto';

export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const ALG_ECDSA_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384';
export const ALG_SHA384_MORE = 'http://www.w3.org/2001/04/xmldsig-more#sha384';
export const ALG_SHA384_ENC = 'http://www.w3.org/2001/04/xmlenc#sha384';
export const ALG_C14N_11 = 'http://www.w3.org/2006/12/xml-c14n11';
export const ALG_ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** Canonical XML 1.1, served by xml-crypto's C14N 1.0 under its own name (see createRimSignedXml). */
class C14n11 extends C14nCanonicalization {
  override getAlgorithmName(): string {
    return ALG_C14N_11;
  }
}

class Sha384More {
  getHash(xml: string): string {
    return createHash('sha384').update(xml, 'utf8').digest('base64');
  }
  getAlgorithmName(): string {
    return ALG_SHA384_MORE;
  }
}

class Sha384Enc extends Sha384More {
  override getAlgorithmName(): string {
    return ALG_SHA384_ENC;
  }
}

/** ECDSA with SHA-384; XMLDSig 1.1 carries the signature as raw r ‖ s (IEEE P1363), base64. */
class EcdsaSha384 {
  getSignature(signedInfo: string | Uint8Array, privateKey: KeyLike): string {
    const data = typeof signedInfo === 'string' ? Buffer.from(signedInfo, 'utf8') : signedInfo;
    const key = privateKey instanceof KeyObject ? privateKey : createPrivateKey(privateKey as string | Buffer);
    return cryptoSign('sha384', data, { key, dsaEncoding: 'ieee-p1363' }).toString('base64');
  }
  verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
    const signature = Buffer.from(signatureValue.replace(/\s+/g, ''), 'base64');
    if (signature.length !== 96) return false;
    try {
      const publicKey = key instanceof KeyObject ? key : createPublicKey(key as string | Buffer);
      return cryptoVerify('sha384', Buffer.from(material, 'utf8'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      return false;
    }
  }
  getAlgorithmName(): string {
    return ALG_ECDSA_SHA384;
  }
}

/**
 * A SignedXml that knows exactly the algorithms NVIDIA RIMs use and nothing weaker: SHA-1/RSA-SHA1 and
 * HMAC are removed so a document cannot downgrade itself. Canonical XML 1.1 is served by xml-crypto's
 * C14N 1.0: for documents without xml:id/xml:base/xml:lang/xml:space attributes (which the RIM parser
 * refuses) the two produce identical bytes.
 */
export function createRimSignedXml(options: ConstructorParameters<typeof SignedXml>[0] = {}): SignedXml {
  const sig = new SignedXml(options);
  sig.CanonicalizationAlgorithms = {
    [ALG_C14N_11]: C14n11,
    [ALG_ENVELOPED]: sig.CanonicalizationAlgorithms[ALG_ENVELOPED] as (typeof sig.CanonicalizationAlgorithms)[string],
  };
  sig.HashAlgorithms = { [ALG_SHA384_MORE]: Sha384More, [ALG_SHA384_ENC]: Sha384Enc };
  sig.SignatureAlgorithms = { [ALG_ECDSA_SHA384]: EcdsaSha384 };
  return sig;
}
