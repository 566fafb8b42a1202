// Reads what keyward keeps about a collateral item (docs/design.md "Evidence and claims"): its content hash,
// a human label, the validity window (notBefore/notAfter, thisUpdate/nextUpdate, issueDate/nextUpdate) and
// the "series" it belongs to (a newer item of the same series replaces an older one). Structure only: nothing
// here checks a signature (the verifiers do, at verification time); an item that cannot be read is refused.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Name } from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier, id_ce_authorityKeyIdentifier } from '@peculiar/asn1-x509';
import { KeywardError } from '../errors.js';
import { toHex } from '../encoding.js';
import { commonNameOf, parseCertificate, type Certificate } from '../evidence/pki.js';
import { parseCrl } from '../evidence/crl.js';
import { readAmdExtensions } from '../evidence/snp/vek.js';
import { parseTcbInfo } from '../evidence/dcap/tcb-info.js';
import { parseQeIdentity } from '../evidence/dcap/qe-identity.js';
import { parseOcspResponse } from '../evidence/nvidia/ocsp.js';
import { inspectRim } from '../evidence/nvidia/rim.js';
import type { CollateralItem, CollateralKind } from './recognize.js';

export interface DescribedCollateral {
  readonly kind: CollateralKind;
  /** What is stored: DER, or the exact text as UTF-8. */
  readonly data: Uint8Array;
  /** SHA-256 of `data`, lowercase hex: the item's id. */
  readonly sha256: string;
  readonly label: string;
  /** Items of one series are versions of the same thing (one issuer's CRL, one FMSPC's TCB Info, ...). */
  readonly series: string;
  readonly validFrom: Date | null;
  readonly validUntil: Date | null;
  readonly details: Record<string, unknown>;
}

type Facts = Pick<DescribedCollateral, 'label' | 'validFrom' | 'validUntil' | 'details'> & { readonly identity: readonly string[] };

const MAX_LABEL = 200;
const MAX_JWKS_KEYS = 64;

function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function clip(text: string): string {
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

/** A structural problem found here (its message is public, unlike those of the parsers underneath). */
class Unusable extends Error {}

function broken(why: string): never {
  throw new Unusable(why);
}

function describeCertificate(der: Uint8Array): Facts {
  const cert = parseCertificate(der);
  const cn = commonNameOf(cert.subject);
  const base = {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serial: cert.serial,
    spkiSha256: cert.spkiSha256,
    ca: cert.x509.ca,
  };
  const facts = { validFrom: cert.notBefore, validUntil: cert.notAfter, identity: [cert.subject, cert.spkiSha256] };
  const amd = readAmdExtensions(cert);
  if (!amd) return { ...facts, label: clip(cn), details: base };
  const t = amd.tcb;
  const tcb = `${t.fmc === undefined ? '' : `fmc=${t.fmc} `}bl=${t.bootloader} tee=${t.tee} snp=${t.snp} ucode=${t.microcode}`;
  const who = amd.hwId ? `chip ${toHex(amd.hwId).slice(0, 16)}…` : `CSP ${amd.cspId ?? ''}`;
  return {
    ...facts,
    label: clip(`${amd.kind.toUpperCase()} ${amd.productName} ${who} ${tcb}`),
    details: {
      ...base,
      amd: { kind: amd.kind, productName: amd.productName, tcb: amd.tcb, ...(amd.hwId ? { hwId: toHex(amd.hwId) } : {}), ...(amd.cspId ? { cspId: amd.cspId } : {}) },
    },
  };
}

function crlAuthorityKeyId(extensions: { extnID: string; extnValue: { buffer: ArrayBuffer } }[] | undefined): string | undefined {
  const ext = extensions?.find((e) => e.extnID === id_ce_authorityKeyIdentifier);
  const keyId = ext ? AsnConvert.parse(ext.extnValue.buffer, AuthorityKeyIdentifier).keyIdentifier : undefined;
  return keyId ? toHex(new Uint8Array(keyId.buffer)) : undefined;
}

function describeCrl(der: Uint8Array): Facts {
  const tbs = parseCrl(der).list.tbsCertList;
  const nextUpdate = tbs.nextUpdate?.getTime();
  // The verifiers refuse a CRL without nextUpdate (its freshness cannot be judged): it cannot be collateral.
  if (!nextUpdate) broken('the CRL has no nextUpdate');
  const issuerDer = new Uint8Array(AsnConvert.serialize(tbs.issuer));
  const issuer = new Name(issuerDer);
  const issuerCn = issuer.getField('CN')[0] ?? issuer.toString();
  const aki = crlAuthorityKeyId(tbs.crlExtensions);
  return {
    label: clip(`CRL by ${issuerCn}`),
    validFrom: tbs.thisUpdate.getTime(),
    validUntil: nextUpdate,
    details: { issuer: issuer.toString(), issuerCn, revoked: tbs.revokedCertificates?.length ?? 0, ...(aki ? { authorityKeyId: aki } : {}) },
    identity: [toHex(issuerDer), aki ?? ''],
  };
}

function describeOcsp(der: Uint8Array): Facts {
  const parsed = parseOcspResponse(der);
  if (!parsed) broken('not a successful basic OCSP response');
  if (parsed.responses.length === 0) broken('the OCSP response holds no certificate status');
  const thisUpdate = Math.max(...parsed.responses.map((r) => r.thisUpdate.getTime()));
  const nexts = parsed.responses.map((r) => r.nextUpdate?.getTime());
  if (nexts.some((n) => n === undefined)) broken('the OCSP response has no nextUpdate');
  const statuses = parsed.responses.map((r) => ({ serial: r.serial, status: r.status, issuerKeyHash: r.issuerKeyHash }));
  const first = statuses[0] as (typeof statuses)[number];
  const more = statuses.length > 1 ? ` (+${statuses.length - 1})` : '';
  return {
    label: clip(`OCSP ${first.status}: serial ${first.serial}${more}`),
    validFrom: new Date(thisUpdate),
    validUntil: new Date(Math.min(...(nexts as number[]))),
    details: { statuses },
    identity: statuses.map((s) => `${s.issuerKeyHash}:${s.serial}`).sort(),
  };
}

function describeTcbInfo(text: string): Facts {
  const { info } = parseTcbInfo(text);
  const fmspc = info.fmspc.toUpperCase();
  return {
    label: `${info.id} TCB Info FMSPC ${fmspc} (evaluation ${info.tcbEvaluationDataNumber})`,
    validFrom: info.issueDate,
    validUntil: info.nextUpdate,
    details: { id: info.id, version: info.version, fmspc, pceId: info.pceId, tcbEvaluationDataNumber: info.tcbEvaluationDataNumber },
    identity: [info.id, info.fmspc, info.pceId],
  };
}

function describeQeIdentity(text: string): Facts {
  const { identity } = parseQeIdentity(text);
  return {
    label: `${identity.id} Identity (evaluation ${identity.tcbEvaluationDataNumber})`,
    validFrom: identity.issueDate,
    validUntil: identity.nextUpdate,
    details: { id: identity.id, version: identity.version, isvProdId: identity.isvProdId, tcbEvaluationDataNumber: identity.tcbEvaluationDataNumber },
    identity: [identity.id],
  };
}

function describeRim(text: string): Facts {
  const rim = inspectRim(text);
  const { product, edition, version, tagId } = rim.identity;
  return {
    label: clip(`RIM ${product} ${edition} ${version}`),
    // A RIM has no validity of its own; it is usable while its signing certificate is.
    validFrom: rim.signer.notBefore,
    validUntil: rim.signer.notAfter,
    details: { product, edition, version, tagId, signer: commonNameOf(rim.signer.subject) },
    identity: [product, edition, version],
  };
}

function jwkCertificate(key: Record<string, unknown>): Certificate | undefined {
  const x5c = key['x5c'];
  if (x5c === undefined) return undefined;
  if (!Array.isArray(x5c) || typeof x5c[0] !== 'string') broken('a key has an x5c that is not a list of certificates');
  return parseCertificate(new Uint8Array(Buffer.from(x5c[0], 'base64')));
}

function describeJwks(text: string): Facts {
  const doc = JSON.parse(text) as { keys?: unknown };
  const keys = doc.keys;
  if (!Array.isArray(keys) || keys.length === 0) broken('a JWK set needs at least one key');
  if (keys.length > MAX_JWKS_KEYS) broken(`a JWK set may hold at most ${MAX_JWKS_KEYS} keys`);
  const kids: string[] = [];
  const certs: (Certificate | undefined)[] = [];
  for (const key of keys as unknown[]) {
    if (typeof key !== 'object' || key === null || typeof (key as Record<string, unknown>)['kty'] !== 'string') broken('a JWK needs a "kty"');
    const kid = (key as Record<string, unknown>)['kid'];
    if (typeof kid === 'string') kids.push(kid);
    certs.push(jwkCertificate(key as Record<string, unknown>));
  }
  // Usable while any key's certificate is; keys without certificates never expire.
  const all = certs.every((c) => c !== undefined) ? (certs as Certificate[]) : [];
  return {
    label: clip(`JWKS ${kids.length > 0 ? kids.join(', ') : `${keys.length} keys`}`),
    validFrom: all.length > 0 ? new Date(Math.min(...all.map((c) => c.notBefore.getTime()))) : null,
    validUntil: all.length > 0 ? new Date(Math.max(...all.map((c) => c.notAfter.getTime()))) : null,
    details: { kids },
    identity: [sha256Hex(text)],
  };
}

function factsOf(item: CollateralItem): Facts {
  const text = (): string => item.data as string;
  const der = (): Uint8Array => item.data as Uint8Array;
  switch (item.kind) {
    case 'certificate':
      return describeCertificate(der());
    case 'crl':
      return describeCrl(der());
    case 'ocsp':
      return describeOcsp(der());
    case 'tcb-info':
      return describeTcbInfo(text());
    case 'qe-identity':
      return describeQeIdentity(text());
    case 'rim':
      return describeRim(text());
    case 'jwks':
      return describeJwks(text());
  }
}

/**
 * Describes one recognized item. An item whose structure cannot be read is ERR_COLLATERAL_MALFORMED
 * (400): it could never help a verification. `name` is used only in the message.
 */
export function describeCollateral(item: CollateralItem, name = 'collateral'): DescribedCollateral {
  let facts: Facts;
  try {
    facts = factsOf(item);
  } catch (cause) {
    const why = cause instanceof KeywardError || cause instanceof Unusable ? cause.message : 'its structure is unreadable';
    throw new KeywardError('ERR_COLLATERAL_MALFORMED', clip(`${name}: a ${item.kind} that cannot be used: ${why.replace(/\.$/, '')}.`), { cause });
  }
  const data = typeof item.data === 'string' ? new Uint8Array(Buffer.from(item.data, 'utf8')) : item.data;
  const { identity, ...rest } = facts;
  return { kind: item.kind, data, sha256: sha256Hex(data), series: `${item.kind}:${sha256Hex(JSON.stringify(identity))}`, ...rest };
}

/** The item as a verifier reads it again, from stored bytes. */
export function storedItem(kind: CollateralKind, data: Uint8Array): CollateralItem {
  return kind === 'certificate' || kind === 'crl' || kind === 'ocsp' ? { kind, data } : { kind, data: Buffer.from(data).toString('utf8') };
}
