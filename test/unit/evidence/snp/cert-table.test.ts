import { describe, expect, it } from 'vitest';
import {
  SNP_CERT_TABLE_GUIDS,
  guidToBytes,
  looksLikeSnpCertTable,
  parseSnpCertTable,
} from '../../../../src/evidence/snp/cert-table.js';
import { decodeSnpCertificates, MAX_EVIDENCE_CERTIFICATES } from '../../../../src/evidence/snp/certs.js';
import { buildSnpCertTable } from '../../../../src/dev/snp.js';
import { parseCertificates } from '../../../../src/evidence/pki.js';
import { readVector } from '../../../helpers/vectors.js';
import { codeOfSync, pemFile, vector, vekOf } from './helpers.js';

const vcek = vekOf(vector('turin-v5-vcek-oak'));
const vlek = vekOf(vector('milan-v3-vlek-aws-trustee'));
const [ask, ark] = parseCertificates(pemFile('amd/turin/cert_chain_vcek.pem'));
const askDer = ask?.der as Uint8Array;
const arkDer = ark?.der as Uint8Array;
const arkPem = new Uint8Array(Buffer.from(ark?.x509.toString() as string));
const crl = readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der');
const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');
const tableCode = (bytes: Uint8Array) => codeOfSync(() => parseSnpCertTable(bytes));

/** A table with its header written by hand, for layouts buildSnpCertTable would never produce. */
function rawTable(entries: { guid: string; offset: number; length: number }[], size: number, fill?: (t: Uint8Array) => void): Uint8Array {
  const table = new Uint8Array(size);
  const view = new DataView(table.buffer);
  entries.forEach((e, i) => {
    table.set(guidToBytes(e.guid), i * 24);
    view.setUint32(i * 24 + 16, e.offset, true);
    view.setUint32(i * 24 + 20, e.length, true);
  });
  fill?.(table);
  return table;
}

describe('parseSnpCertTable with real certificates', () => {
  it('reads VCEK, ASK and ARK in DER and PEM, with their GUIDs in RFC 4122 byte order', () => {
    const table = buildSnpCertTable([
      { kind: 'vcek', data: vcek },
      { kind: 'ask', data: askDer },
      { kind: 'ark', data: arkPem },
    ]);
    expect(hex(table.subarray(0, 16))).toBe('63da758de6644564adc5f4b93be8accd');
    const entries = parseSnpCertTable(table);
    expect(entries.map((e) => e.kind)).toEqual(['vcek', 'ask', 'ark']);
    expect(entries.map((e) => e.guid)).toEqual([SNP_CERT_TABLE_GUIDS.vcek, SNP_CERT_TABLE_GUIDS.ask, SNP_CERT_TABLE_GUIDS.ark]);
    expect(hex(entries[0]?.der)).toBe(hex(vcek));
    expect(hex(entries[1]?.der)).toBe(hex(askDer));
    expect(hex(entries[2]?.der)).toBe(hex(arkDer));
    expect(decodeSnpCertificates([table]).map(hex)).toEqual([vcek, askDer, arkDer].map(hex));
  });

  it('reads a VLEK entry, keeps unknown GUIDs uninterpreted, and recognizes a CRL entry', () => {
    const other = '11111111-2222-3333-4444-555555555555';
    const table = buildSnpCertTable([
      { kind: 'vlek', data: vlek },
      { kind: other, data: new Uint8Array([1, 2, 3]) },
      { kind: 'crl', data: crl },
    ]);
    const entries = parseSnpCertTable(table);
    expect(entries.map((e) => e.kind)).toEqual(['vlek', 'unknown', 'crl']);
    expect(entries[1]).toMatchObject({ guid: other });
    expect(entries[1]?.der).toBeUndefined();
    expect(hex(entries[2]?.der)).toBe(hex(crl));
    expect(decodeSnpCertificates([table]).map(hex)).toEqual([hex(vlek)]);
  });

  it('accepts an empty table (just the terminator) and tables followed by page padding', () => {
    expect(parseSnpCertTable(new Uint8Array(24))).toEqual([]);
    expect(parseSnpCertTable(new Uint8Array(4096))).toEqual([]);
    const padded = new Uint8Array(8192);
    padded.set(buildSnpCertTable([{ kind: 'vcek', data: vcek }]));
    expect(parseSnpCertTable(padded).map((e) => e.kind)).toEqual(['vcek']);
  });

  it('is recognized by its first GUID', () => {
    expect(looksLikeSnpCertTable(buildSnpCertTable([{ kind: 'ark', data: arkDer }]))).toBe(true);
    expect(looksLikeSnpCertTable(new Uint8Array(24))).toBe(true);
    expect(looksLikeSnpCertTable(vcek)).toBe(false);
    expect(looksLikeSnpCertTable(new Uint8Array(23))).toBe(false);
  });
});

describe('parseSnpCertTable refuses malformed tables (ERR_SNP_CERT_TABLE_MALFORMED)', () => {
  const g = SNP_CERT_TABLE_GUIDS;

  it('no terminator, or a terminator with an offset or length', () => {
    const table = buildSnpCertTable([{ kind: 'vcek', data: vcek }]);
    expect(tableCode(table.subarray(0, 40))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    expect(tableCode(rawTable([{ guid: g.vcek, offset: 48, length: 4 }], 47))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    const bad = new Uint8Array(table);
    bad[24 + 16] = 1;
    expect(tableCode(bad)).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
  });

  it('an entry past the end, inside the header, overlapping another, empty, or repeated', () => {
    const size = 48 + vcek.length;
    const fillVcek = (t: Uint8Array): void => t.set(vcek, 48);
    expect(tableCode(rawTable([{ guid: g.vcek, offset: 48, length: vcek.length + 1 }], size, fillVcek))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    expect(tableCode(rawTable([{ guid: g.vcek, offset: 0xffffffff, length: 0xffffffff }], size))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    expect(tableCode(rawTable([{ guid: g.vcek, offset: 16, length: 32 }], size))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    expect(tableCode(rawTable([{ guid: g.vcek, offset: 48, length: 0 }], size))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    const two = rawTable(
      [
        { guid: g.vcek, offset: 72, length: vcek.length },
        { guid: g.ask, offset: 80, length: 10 },
      ],
      72 + vcek.length,
      (t) => t.set(vcek, 72),
    );
    expect(tableCode(two)).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    const repeated = buildSnpCertTable([
      { kind: 'vcek', data: vcek },
      { kind: 'vcek', data: vcek },
    ]);
    expect(tableCode(repeated)).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
  });

  it('a certificate entry holding two certificates, trailing bytes, garbage, or the wrong PEM label', () => {
    expect(tableCode(buildSnpCertTable([{ kind: 'ask', data: new Uint8Array([...askDer, ...arkDer]) }]))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    expect(tableCode(buildSnpCertTable([{ kind: 'ask', data: new Uint8Array([...askDer, 0]) }]))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    expect(tableCode(buildSnpCertTable([{ kind: 'vcek', data: new Uint8Array([1, 2, 3, 4]) }]))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    expect(tableCode(buildSnpCertTable([{ kind: 'ark', data: new Uint8Array([...arkPem, ...arkPem]) }]))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    const crlPem = new Uint8Array(Buffer.from(`-----BEGIN X509 CRL-----\n${Buffer.from(crl).toString('base64')}\n-----END X509 CRL-----\n`));
    expect(tableCode(buildSnpCertTable([{ kind: 'ark', data: crlPem }]))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    expect(parseSnpCertTable(buildSnpCertTable([{ kind: 'crl', data: crlPem }]))[0]?.kind).toBe('crl');
  });

  it('more than 32 entries', () => {
    const entries = Array.from({ length: 33 }, (_, i) => ({ kind: `00000000-0000-0000-0000-${String(i + 1).padStart(12, '0')}`, data: new Uint8Array([i]) }));
    expect(tableCode(buildSnpCertTable(entries))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
  });
});

describe('decodeSnpCertificates input forms', () => {
  it('DER single, DER concatenated, PEM single, AMD cert_chain bundle', () => {
    expect(decodeSnpCertificates([vcek]).map(hex)).toEqual([hex(vcek)]);
    expect(decodeSnpCertificates([new Uint8Array([...askDer, ...arkDer])]).map(hex)).toEqual([askDer, arkDer].map(hex));
    expect(decodeSnpCertificates([arkPem]).map(hex)).toEqual([hex(arkDer)]);
    expect(decodeSnpCertificates([pemFile('amd/turin/cert_chain_vcek.pem')]).map(hex)).toEqual([askDer, arkDer].map(hex));
  });

  it('refuses empty input (ERR_CHAIN_MALFORMED), unreadable input (ERR_SNP_CERT_TABLE_MALFORMED) and too many certificates', () => {
    expect(codeOfSync(() => decodeSnpCertificates([new Uint8Array(0)]))).toBe('ERR_CHAIN_MALFORMED');
    expect(codeOfSync(() => decodeSnpCertificates([new Uint8Array([1, 2, 3])]))).toBe('ERR_SNP_CERT_TABLE_MALFORMED');
    const many = Array.from({ length: MAX_EVIDENCE_CERTIFICATES + 1 }, () => vcek);
    expect(codeOfSync(() => decodeSnpCertificates(many))).toBe('ERR_EVIDENCE_MALFORMED');
  });
});
