// Signatures over DER structures (CRLs, OCSP responses, ...) under an X.509 AlgorithmIdentifier, with
// node's synchronous crypto: ECDSA, RSA PKCS#1 v1.5, RSASSA-PSS with explicit parameters, Ed25519.
import { verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { RsaSaPssParams, id_RSASSA_PSS, id_sha256, id_sha384, id_sha512 } from '@peculiar/asn1-rsa';

const ECDSA_HASH: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
const RSA_PKCS1_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const HASH_OID: Record<string, string> = { [id_sha256]: 'sha256', [id_sha384]: 'sha384', [id_sha512]: 'sha512' };

/**
 * Verifies `signature` over `data` with `key` under an X.509 AlgorithmIdentifier (ECDSA, RSA PKCS#1 v1.5,
 * RSASSA-PSS with explicit parameters, Ed25519). Unknown algorithms fail closed (false).
 */
export function verifyWithAlgorithm(
  algorithm: AlgorithmIdentifier,
  data: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
): boolean {
  const oid = algorithm.algorithm;
  try {
    const ecdsaHash = ECDSA_HASH[oid];
    if (ecdsaHash) return cryptoVerify(ecdsaHash, data, key, signature);
    const rsaHash = RSA_PKCS1_HASH[oid];
    if (rsaHash) return cryptoVerify(rsaHash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    if (oid === '1.3.101.112') return cryptoVerify(null, data, key, signature);
    if (oid === id_RSASSA_PSS && algorithm.parameters) {
      const params = AsnConvert.parse(algorithm.parameters, RsaSaPssParams);
      const hash = HASH_OID[params.hashAlgorithm.algorithm];
      const mgfHashParams = params.maskGenAlgorithm.parameters;
      const mgfHash = mgfHashParams ? HASH_OID[AsnConvert.parse(mgfHashParams, AlgorithmIdentifier).algorithm] : undefined;
      // Node's PSS verification uses MGF1 with the message hash; anything else is refused.
      if (!hash || mgfHash !== hash || params.trailerField !== 1) return false;
      return cryptoVerify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength },
        signature,
      );
    }
  } catch {
    return false;
  }
  return false;
}
