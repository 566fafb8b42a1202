// Development OCSP (RFC 6960): delegated responder certificates and signed OCSPResponses for certificates
// of a dev PKI, so revocation paths can be tested without a vendor's responder.
import { createHash, sign as cryptoSign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
} from '@peculiar/asn1-ocsp';
import { devPrivateKeyObject, generateDevKeyPair, issueCertificate, x509, type DevCertificate } from './pki.js';

const HASH_OIDS = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2' } as const;
const ECDSA_SIG_OIDS: Record<string, string> = { p256: '1.2.840.10045.4.3.2', p384: '1.2.840.10045.4.3.3' };

/** A delegated OCSP responder certificate issued by `issuer` (EKU id-kp-OCSPSigning). */
export async function issueOcspResponder(issuer: DevCertificate, opts: { notBefore: Date; notAfter: Date; label?: string }): Promise<DevCertificate> {
  return issueCertificate(issuer, {
    subject: `CN=${opts.label ?? 'SIMULATED'} OCSP Responder for ${issuer.cert.subjectName.getField('CN')[0] ?? 'CA'}`,
    keys: await generateDevKeyPair('p384'),
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    extensions: [new x509.ExtendedKeyUsageExtension([id_kp_OCSPSigning])],
  });
}

export interface DevOcspOptions {
  readonly cert: DevCertificate;
  readonly issuer: DevCertificate;
  /** The signer: a delegated responder from `issueOcspResponder`, or the issuer itself. */
  readonly responder: DevCertificate;
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly thisUpdate: Date;
  /** Omit to mint a response without nextUpdate. */
  readonly nextUpdate?: Date;
  readonly hash?: keyof typeof HASH_OIDS;
}

function certIdFor(opts: DevOcspOptions): CertID {
  const hashName = opts.hash ?? 'sha384';
  const issuerTbs = AsnConvert.parse(opts.issuer.der, AsnCertificate).tbsCertificate;
  const certTbs = AsnConvert.parse(opts.cert.der, AsnCertificate).tbsCertificate;
  const digest = (data: ArrayBuffer): ArrayBuffer => new Uint8Array(createHash(hashName).update(new Uint8Array(data)).digest()).buffer;
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: HASH_OIDS[hashName] }),
    issuerNameHash: new OctetString(digest(AsnConvert.serialize(issuerTbs.subject))),
    issuerKeyHash: new OctetString(digest(issuerTbs.subjectPublicKeyInfo.subjectPublicKey)),
    serialNumber: certTbs.serialNumber,
  });
}

function statusFor(opts: DevOcspOptions): CertStatus {
  if (opts.status === 'revoked') return new CertStatus({ revoked: new RevokedInfo({ revocationTime: opts.thisUpdate }) });
  if (opts.status === 'unknown') return new CertStatus({ unknown: null });
  return new CertStatus({ good: null });
}

/** A signed, successful OCSPResponse (DER) about `cert`. */
export function mintOcspResponse(opts: DevOcspOptions): Uint8Array {
  const responderTbs = AsnConvert.parse(opts.responder.der, AsnCertificate).tbsCertificate;
  const single = new SingleResponse({
    certID: certIdFor(opts),
    certStatus: statusFor(opts),
    thisUpdate: opts.thisUpdate,
    ...(opts.nextUpdate ? { nextUpdate: opts.nextUpdate } : {}),
  });
  const tbsResponseData = new ResponseData({
    responderID: new ResponderID({ byName: responderTbs.subject }),
    producedAt: opts.thisUpdate,
    responses: [single],
  });
  const tbs = AsnConvert.serialize(tbsResponseData);
  const signature = cryptoSign('sha384', new Uint8Array(tbs), devPrivateKeyObject(opts.responder.keys));
  const basic = new BasicOCSPResponse({
    tbsResponseData,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ECDSA_SIG_OIDS[opts.responder.keys.algorithm] ?? ECDSA_SIG_OIDS['p384'] as string }),
    signature: new Uint8Array(signature).buffer,
    ...(opts.responder === opts.issuer ? {} : { certs: [AsnConvert.parse(opts.responder.der, AsnCertificate)] }),
  });
  const response = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
  });
  return new Uint8Array(AsnConvert.serialize(response));
}
