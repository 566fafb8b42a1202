// Collateral over HTTP and for the verifiers, on PGlite and (when configured) Postgres: uploads of every kind
// from the real vectors with their labels and validity, deduplication, refusals with their codes, auth,
// listing, deletion and audit; then the bag collateralFor builds, with which real SNP and DCAP vectors
// verify at their times, and stale collateral in the store surfacing as the verifiers' 503-class codes.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, createTestDatabase } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { intelSetFiles, listAll, settableClock, uploadJson, uploadRaw, type ListedCollateral } from '../helpers/collateral.js';
import { readVector, readVectorText, vectorPath } from '../helpers/vectors.js';
import { intelManifest, intelQuote } from '../helpers/intel.js';
import { manifest as snpManifest, reportOf, vector } from '../unit/evidence/snp/helpers.js';
import { verifyEvidence } from '../../src/evidence/verify.js';
import { ERROR_STATUS, KeywardError } from '../../src/errors.js';
import { RAW_COLLATERAL_TYPES } from '../../src/http/routes/collateral.js';
import { openapi } from '../helpers/contract.js';
import type { EvidenceItem } from '../../src/evidence/types.js';
import type { SnpClaims } from '../../src/evidence/snp/claims.js';
import type { TdxClaims } from '../../src/evidence/dcap/claims.js';

const iso = (d: string | Date): string => new Date(d).toISOString();
const TDX_SET = 'tdx/collateral/dcapqvl_tdx_B0C06F000000_2025-06';
const SGX_SET = 'sgx/collateral/dcapqvl_sgx_00A067110000_2025-06';

function certValidity(pem: string): { validFrom: string; validUntil: string }[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => {
    const c = new X509Certificate(m[0]);
    return { validFrom: iso(c.validFrom), validUntil: iso(c.validTo) };
  });
}

async function verifyCode(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof KeywardError) return err.code;
    throw err;
  }
  return undefined;
}

describe.each(DB_KINDS)('collateral API on %s', (kind) => {
  let kw: TestKeyward;
  const clock = settableClock('2025-07-04T10:00:00Z');

  beforeAll(async () => {
    kw = await startTestKeyward(kind, { clock });
  });
  afterAll(async () => kw?.close());

  it('stores AMD certificates (cert_chain PEM, VCEK DER) with subject labels and their validity', async () => {
    const pem = readVectorText('snp', 'amd/milan/cert_chain_vcek.pem');
    const res = await uploadRaw(kw, pem, { contentType: 'application/x-pem-file', name: 'cert_chain_vcek.pem' });
    expect(res.statusCode).toBe(201);
    const items = res.json().items as ListedCollateral[];
    expect(items.map((i) => [i.kind, i.label, i.source, i.name, i.duplicate])).toEqual([
      ['certificate', 'SEV-Milan', 'upload', 'cert_chain_vcek.pem', false],
      ['certificate', 'ARK-Milan', 'upload', 'cert_chain_vcek.pem', false],
    ]);
    expect(items.map((i) => ({ validFrom: i.validFrom, validUntil: i.validUntil }))).toEqual(certValidity(pem));

    const v = vector('milan-v3-vcek-oak-cb');
    const vcek = await uploadRaw(kw, readVector('snp', v.vek as string));
    expect(vcek.statusCode).toBe(201);
    const [item] = vcek.json().items as ListedCollateral[];
    expect(item?.kind).toBe('certificate');
    const productName = v.vek_extensions?.productName as string;
    expect(productName.startsWith('Milan')).toBe(true);
    expect(item?.label).toBe(`VCEK ${productName} chip ${v.fields.chip_id.slice(0, 16)}… bl=4 tee=0 snp=24 ucode=219`);
    expect([item?.validFrom, item?.validUntil]).toEqual([iso(v.vek_not_before as string), iso(v.vek_not_after as string)]);
    expect(item?.details['amd']).toMatchObject({ kind: 'vcek', productName, hwId: v.fields.chip_id, tcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 } });
  });

  it('stores CRLs (DER and PEM) with thisUpdate/nextUpdate and the issuer as label', async () => {
    for (const crl of snpManifest.crls) {
      const res = crl.product === 'Milan' ? await uploadRaw(kw, readVector('snp', crl.file_der)) : await uploadRaw(kw, readVectorText('snp', (crl as unknown as { file_pem: string }).file_pem), { contentType: 'text/plain' });
      expect(res.statusCode).toBe(201);
      const [item] = res.json().items as ListedCollateral[];
      expect(item).toMatchObject({ kind: 'crl', label: `CRL by ARK-${crl.product}`, validFrom: iso(crl.this_update), validUntil: iso(crl.next_update) });
      expect(item?.details['revoked']).toBe(crl.revoked_serials.length);
    }
  });

  it('stores an Intel collateral set: TCB Info and QE Identity with issueDate/nextUpdate, PCK and Root CA CRLs, signing chains', async () => {
    const res = await uploadJson(kw, intelSetFiles(TDX_SET).filter((f) => f.name !== 'dcap_qvl_collateral.json'));
    expect(res.statusCode).toBe(201);
    const items = res.json().items as ListedCollateral[];
    const set = (intelManifest as unknown as { collateral_sets: Record<string, Record<string, Record<string, string>>> }).collateral_sets['dcapqvl_tdx_B0C06F000000_2025-06'] as Record<string, Record<string, string>>;
    const tcb = items.find((i) => i.kind === 'tcb-info');
    expect(tcb).toMatchObject({ label: 'TDX TCB Info FMSPC B0C06F000000 (evaluation 17)', validFrom: iso(set['tcb_info']?.['issueDate'] as string), validUntil: iso(set['tcb_info']?.['nextUpdate'] as string), name: 'tcb_info.json' });
    expect(tcb?.details).toMatchObject({ id: 'TDX', fmspc: 'B0C06F000000', pceId: '0000', tcbEvaluationDataNumber: 17 });
    const qe = items.find((i) => i.kind === 'qe-identity');
    expect(qe).toMatchObject({ label: 'TD_QE Identity (evaluation 17)', validUntil: iso(set['qe_identity']?.['nextUpdate'] as string) });
    const crls = items.filter((i) => i.kind === 'crl').map((i) => [i.label, i.validFrom, i.validUntil]);
    expect(crls).toEqual([
      ['CRL by Intel SGX PCK Platform CA', iso(set['pck_crl']?.['thisUpdate'] as string), iso(set['pck_crl']?.['nextUpdate'] as string)],
      ['CRL by Intel SGX Root CA', iso(set['root_ca_crl']?.['thisUpdate'] as string), iso(set['root_ca_crl']?.['nextUpdate'] as string)],
    ]);
    // The Root CA appears in three chain files and is stored once.
    const certs = items.filter((i) => i.kind === 'certificate').map((i) => i.label);
    expect(certs.sort()).toEqual(['Intel SGX PCK Platform CA', 'Intel SGX Root CA', 'Intel SGX TCB Signing']);
  });

  it("splits dcap-qvl's combined JSON into its items", async () => {
    const res = await uploadRaw(kw, readVector('intel', SGX_SET, 'dcap_qvl_collateral.json'), { name: 'dcap_qvl_collateral.json' });
    expect(res.statusCode).toBe(201);
    const items = res.json().items as ListedCollateral[];
    expect(items.filter((i) => i.kind === 'tcb-info').map((i) => i.label)).toEqual(['SGX TCB Info FMSPC 00A067110000 (evaluation 17)']);
    expect(items.filter((i) => i.kind === 'qe-identity').map((i) => i.label)).toEqual(['QE Identity (evaluation 17)']);
    expect(items.filter((i) => i.kind === 'crl').map((i) => i.label).sort()).toEqual(['CRL by Intel SGX PCK Processor CA', 'CRL by Intel SGX Root CA']);
  });

  it('stores NVIDIA RIMs (XML), OCSP responses (DER) and the NRAS JWKS', async () => {
    const rim = await uploadRaw(kw, readVectorText('nvidia', 'hopper-550.90.07-e2e/driver_rim_NV_GPU_DRIVER_GH100_550.90.07.xml'), { contentType: 'application/xml' });
    expect(rim.statusCode).toBe(201);
    const [r] = rim.json().items as ListedCollateral[];
    expect(r).toMatchObject({ kind: 'rim', label: 'RIM GH100 GPU 550.90.07' });
    expect(r?.details).toMatchObject({ product: 'GH100', edition: 'GPU', version: '550.90.07' });
    expect(r?.validFrom).not.toBeNull();

    const ocsp = await uploadRaw(kw, readVector('nvidia', 'hopper-550.90.07-e2e/ocsp/gpu_L2_GH100_Identity.ocsp.der'), { contentType: 'application/ocsp-response' });
    expect(ocsp.statusCode).toBe(201);
    const [o] = ocsp.json().items as ListedCollateral[];
    expect(o?.kind).toBe('ocsp');
    expect(o?.label).toMatch(/^OCSP (good|revoked|unknown): serial [0-9a-f]+/);
    expect(Date.parse(o?.validUntil as string)).toBeGreaterThan(Date.parse(o?.validFrom as string));

    const jwksText = readVectorText('nvidia', 'nras-jwks/nras_jwks_2026-06-29T0208Z.json');
    const jwks = await uploadRaw(kw, jwksText, { contentType: 'application/jwk-set+json' });
    expect(jwks.statusCode).toBe(201);
    const [j] = jwks.json().items as ListedCollateral[];
    const kids = (JSON.parse(jwksText) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(j?.kind).toBe('jwks');
    expect(j?.label.startsWith(`JWKS ${kids[0]}`)).toBe(true);
    expect(j?.details['kids']).toEqual(kids);
  });

  it('stores each item once: a second upload is a duplicate and the listing does not grow', async () => {
    const before = await listAll(kw);
    const again = await uploadRaw(kw, readVectorText('snp', 'amd/milan/cert_chain_vcek.pem'), { contentType: 'application/x-pem-file' });
    expect(again.statusCode).toBe(201);
    expect((again.json().items as ListedCollateral[]).map((i) => i.duplicate)).toEqual([true, true]);
    // The same certificate inside another file (ARK-Milan again, next to the ASVK) is one item too.
    const vlekChain = await uploadRaw(kw, readVectorText('snp', 'amd/milan/cert_chain_vlek.pem'), { contentType: 'application/x-pem-file' });
    expect((vlekChain.json().items as ListedCollateral[]).map((i) => [i.label, i.duplicate])).toEqual([
      ['SEV-VLEK-Milan', false],
      ['ARK-Milan', true],
    ]);
    const after = await listAll(kw);
    expect(after.length).toBe(before.length + 1);
    expect(new Set(after.map((i) => i.id)).size).toBe(after.length);
  });

  it('refuses what is not collateral (400 ERR_COLLATERAL_UNRECOGNIZED) and broken collateral (400 ERR_COLLATERAL_MALFORMED), storing nothing', async () => {
    const before = (await listAll(kw)).length;
    for (const garbage of ['hello world', '{"some":"json"}', '<html></html>', '']) {
      const res = await uploadRaw(kw, garbage);
      expect(res.statusCode, garbage).toBe(400);
      expect(res.json().code).toBe('ERR_COLLATERAL_UNRECOGNIZED');
    }
    const report = await uploadRaw(kw, reportOf(vector('milan-v3-vcek-oak-cb')));
    expect(report.json().code).toBe('ERR_COLLATERAL_UNRECOGNIZED');

    const tcb = JSON.parse(readVectorText('intel', TDX_SET, 'tcb_info.json')) as { tcbInfo: Record<string, unknown> };
    delete tcb.tcbInfo['fmspc'];
    const broken = await uploadRaw(kw, JSON.stringify(tcb));
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('ERR_COLLATERAL_MALFORMED');
    expect((await uploadRaw(kw, '{"keys":[]}')).json().code).toBe('ERR_COLLATERAL_MALFORMED');

    // One bad file fails the whole envelope.
    const mixed = await uploadJson(kw, [
      { name: 'good.pem', data: readVector('snp', 'amd/genoa/cert_chain_vcek.pem') },
      { name: 'bad.bin', data: new Uint8Array([1, 2, 3]) },
    ]);
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().code).toBe('ERR_COLLATERAL_UNRECOGNIZED');
    expect(mixed.json().detail).toContain('bad.bin');
    expect((await kw.request('POST', '/v1/collateral', { body: { items: [{ data: 'not base64!' }] } })).json().code).toBe('ERR_REQUEST_INVALID');
    expect((await kw.request('POST', '/v1/collateral', { body: { items: [] } })).json().code).toBe('ERR_REQUEST_INVALID');
    // No body at all (found by fuzzing: it was a 500).
    const empty = await kw.request('POST', '/v1/collateral?name=x');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().code).toBe('ERR_REQUEST_MALFORMED');
    const png = await uploadRaw(kw, new Uint8Array([0x89, 0x50]), { contentType: 'image/png' });
    expect(png.statusCode).toBe(415);
    expect(png.json().code).toBe('ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
    const huge = await uploadRaw(kw, new Uint8Array(kw.config.bodyLimit + 1).fill(0x41));
    expect([huge.statusCode, huge.json().code]).toEqual([413, 'ERR_REQUEST_TOO_LARGE']);
    expect((await listAll(kw)).length).toBe(before);
  });

  it('requires a token with collateral:write to upload and collateral:read to list', async () => {
    const pem = readVectorText('snp', 'amd/turin/cert_chain_vcek.pem');
    const anonymous = await uploadRaw(kw, pem, { token: null });
    expect([anonymous.statusCode, anonymous.json().code]).toEqual([401, 'ERR_AUTH_REQUIRED']);
    expect((await uploadRaw(kw, pem, { token: 'kw_not-a-real-token' })).json().code).toBe('ERR_AUTH_INVALID');
    const auditor = (await kw.request('POST', '/v1/tokens', { body: { name: 'auditor', role: 'auditor' } })).json().token as string;
    const forbidden = await uploadRaw(kw, pem, { token: auditor });
    expect([forbidden.statusCode, forbidden.json().code]).toEqual([403, 'ERR_AUTH_FORBIDDEN']);
    expect((await kw.request('DELETE', `/v1/collateral/${'0'.repeat(64)}`, { token: auditor })).json().code).toBe('ERR_AUTH_FORBIDDEN');
    expect((await kw.request('GET', '/v1/collateral', { token: auditor })).statusCode).toBe(200);
    expect((await kw.request('GET', '/v1/collateral', { token: null })).json().code).toBe('ERR_AUTH_REQUIRED');
    const operator = (await kw.request('POST', '/v1/tokens', { body: { name: 'ops', role: 'operator' } })).json().token as string;
    expect((await uploadRaw(kw, pem, { token: operator })).statusCode).toBe(201);
  });

  it('lists by kind, source and staleness at the service clock, in pages', async () => {
    const all = await listAll(kw);
    const crls = await listAll(kw, 'kind=crl');
    expect(crls.length).toBeGreaterThan(0);
    expect(crls.every((i) => i.kind === 'crl')).toBe(true);
    expect(crls.length).toBe(all.filter((i) => i.kind === 'crl').length);
    // At 2025-07-04 the Genoa CRL (nextUpdate 2025-11-03) is fresh; at 2025-12-01 it is stale.
    const genoa = (i: ListedCollateral): boolean => i.label === 'CRL by ARK-Genoa';
    expect((await listAll(kw, 'stale=false')).some(genoa)).toBe(true);
    clock.set('2025-12-01T00:00:00Z');
    const stale = await listAll(kw, 'stale=true');
    expect(stale.some(genoa)).toBe(true);
    expect(stale.every((i) => i.stale && Date.parse(i.validUntil as string) < Date.parse('2025-12-01T00:00:00Z'))).toBe(true);
    expect((await listAll(kw, 'stale=false')).some(genoa)).toBe(false);
    clock.set('2025-07-04T10:00:00Z');
    expect((await listAll(kw, 'source=upload')).length).toBe(all.length);
    expect(await listAll(kw, 'source=kds')).toEqual([]);

    const page1 = (await kw.request('GET', '/v1/collateral?limit=3')).json();
    expect(page1.items).toHaveLength(3);
    const page2 = (await kw.request('GET', `/v1/collateral?limit=3&cursor=${page1.nextCursor}`)).json();
    expect(page2.items[0].id).not.toBe(page1.items[2].id);
    expect(all.slice(0, 6).map((i) => i.id)).toEqual([...page1.items, ...page2.items].map((i: ListedCollateral) => i.id));
    expect((await kw.request('GET', '/v1/collateral?cursor=bm9wZQ')).json().code).toBe('ERR_REQUEST_INVALID');
    expect((await kw.request('GET', '/v1/collateral?kind=firmware')).json().code).toBe('ERR_REQUEST_INVALID');
  });

  it('deletes an item (404 ERR_COLLATERAL_NOT_FOUND after), auditing uploads and deletions', async () => {
    const [ark] = (await listAll(kw)).filter((i) => i.label === 'ARK-Turin');
    expect(ark).toBeDefined();
    const del = await kw.request('DELETE', `/v1/collateral/${ark?.id}`);
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ id: ark?.id, kind: 'certificate', label: 'ARK-Turin' });
    const again = await kw.request('DELETE', `/v1/collateral/${ark?.id}`);
    expect([again.statusCode, again.json().code]).toEqual([404, 'ERR_COLLATERAL_NOT_FOUND']);
    expect((await kw.request('DELETE', '/v1/collateral/not-a-hash')).json().code).toBe('ERR_COLLATERAL_NOT_FOUND');
    const uploads = (await kw.request('GET', '/v1/audit?action=collateral.upload&limit=1000')).json().items;
    expect(uploads.length).toBeGreaterThan(5);
    expect(uploads[0].details).toMatchObject({ source: 'upload', count: 2, added: 2 });
    const deletes = (await kw.request('GET', `/v1/audit?action=collateral.delete&target=${ark?.id}`)).json().items;
    expect(deletes).toHaveLength(1);
    expect((await kw.request('GET', '/v1/audit/verify')).json().ok).toBe(true);
  });

  it('builds a bag with which an SNP report sent without certificates verifies at its time', async () => {
    const v = vector('milan-v3-vcek-oak-cb');
    const item: EvidenceItem = { type: 'snp', report: reportOf(v), certs: [] };
    const at = new Date(v.verification_time as string);
    const bag = await kw.keyward.collateral.collateralFor([item], at);
    // The Milan CRL (thisUpdate 2025-05-06) is not valid yet at 2025-02-04: it is left out, so only
    // with revocation optional does the report verify then (revocationChecked: false).
    expect(await verifyCode(async () => verifyEvidence(item, { collateral: bag, anchors: kw.keyward.anchors, now: at }))).toBe('ERR_COLLATERAL_MISSING');
    const result = await verifyEvidence(item, { collateral: bag, anchors: kw.keyward.anchors, now: at, revocation: 'optional' });
    const claims = result.claims as SnpClaims;
    expect(claims.chipId).toBe(v.fields.chip_id);
    expect(claims.measurement).toBe(v.fields.measurement);
    expect(claims.revocationChecked).toBe(false);
    // Inside the CRL's window the CRL is applied (and the chain is not revoked).
    const later = new Date('2025-06-01T00:00:00Z');
    const withCrl = await verifyEvidence(item, { collateral: await kw.keyward.collateral.collateralFor([item], later), anchors: kw.keyward.anchors, now: later });
    expect(withCrl.validUntil.toISOString()).toBe(iso(snpManifest.crls.find((c) => c.product === 'Milan')?.next_update as string));
    expect((withCrl.claims as SnpClaims).revocationChecked).toBe(true);
  });

  it('hands a stale SNP CRL to the verifier, which refuses it as ERR_CRL_STALE (503, retryable)', async () => {
    const v = vector('milan-v3-vcek-oak-cb');
    const item: EvidenceItem = { type: 'snp', report: reportOf(v), certs: [] };
    const at = new Date('2026-06-01T00:00:00Z');
    const code = await verifyCode(async () => verifyEvidence(item, { collateral: await kw.keyward.collateral.collateralFor([item], at), anchors: kw.keyward.anchors, now: at }));
    expect(code).toBe('ERR_CRL_STALE');
    expect(ERROR_STATUS.ERR_CRL_STALE).toBe(503);
  });

  it('builds a bag with which TDX and SGX quotes verify at their times, picking the set valid then', async () => {
    const sample = intelManifest.quotes.find((q) => q.id === 'tdx-v4-dcapqvl-sample');
    const item: EvidenceItem = { type: 'tdx', quote: intelQuote(sample as never) };
    const at = new Date('2025-07-04T10:00:00Z');
    const claims = (await verifyEvidence(item, { collateral: await kw.keyward.collateral.collateralFor([item], at), anchors: kw.keyward.anchors, now: at })).claims as TdxClaims;
    expect(claims.tcbStatus).toBe('UpToDate');

    // sgx-v3-automata under two sets: each verifies at its own time, the older set superseded at the later one.
    for (const dir of ['sgx/collateral/dcaprs_sgx_00606A000000_2025-02', 'sgx/collateral/automata_sgx_00606A000000_2025-08']) {
      expect((await uploadJson(kw, intelSetFiles(dir))).statusCode).toBe(201);
    }
    const q = intelManifest.quotes.find((x) => x.id === 'sgx-v3-automata');
    const sgx: EvidenceItem = { type: 'sgx', quote: intelQuote(q as never) };
    for (const evaluation of q?.evaluations ?? []) {
      const now = new Date(evaluation.verification_time);
      const result = await verifyEvidence(sgx, { collateral: await kw.keyward.collateral.collateralFor([sgx], now), anchors: kw.keyward.anchors, now });
      expect((result.claims as { tcbStatus: string }).tcbStatus, evaluation.collateral_set).toBe(evaluation.expected.tcb_status);
    }
  });

  it('refuses a stale TCB Info from the store with ERR_COLLATERAL_STALE (503) once fresher CRLs are held', async () => {
    const sample = intelManifest.quotes.find((q) => q.id === 'tdx-v4-dcapqvl-sample');
    const item: EvidenceItem = { type: 'tdx', quote: intelQuote(sample as never) };
    // Between the PCK CRL's and the TCB Info's nextUpdate the CRL goes stale first.
    const between = new Date('2025-07-19T10:10:00Z');
    expect(await verifyCode(async () => verifyEvidence(item, { collateral: await kw.keyward.collateral.collateralFor([item], between), anchors: kw.keyward.anchors, now: between }))).toBe('ERR_CRL_STALE');
    // With the 2026 set's CRLs held, only the B0C06F TCB Info (and nothing newer for its FMSPC) is stale.
    const newer = intelSetFiles('tdx/collateral/dcapqvl_tdx_90C06F000000_2026-02').filter((f) => f.name.endsWith('.der') || f.name.endsWith('.pem') || f.name === 'qe_identity.json');
    expect((await uploadJson(kw, newer)).statusCode).toBe(201);
    const at = new Date('2026-03-05T10:00:00Z');
    const code = await verifyCode(async () => verifyEvidence(item, { collateral: await kw.keyward.collateral.collateralFor([item], at), anchors: kw.keyward.anchors, now: at }));
    expect(code).toBe('ERR_COLLATERAL_STALE');
    expect(ERROR_STATUS.ERR_COLLATERAL_STALE).toBe(503);
  });
});

describe('POST /v1/collateral media types', () => {
  it('parses exactly the raw media types openapi.yaml documents, besides the JSON envelope', () => {
    const paths = openapi.doc['paths'] as Record<string, { post?: { requestBody: { content: Record<string, unknown> } } }>;
    const documented = Object.keys(paths['/v1/collateral']?.post?.requestBody.content ?? {});
    expect(documented.filter((t) => t !== 'application/json').sort()).toEqual([...RAW_COLLATERAL_TYPES].sort());
  });
});

describe.each(DB_KINDS)('KEYWARD_COLLATERAL_DIR on %s', (kind) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyward-collateral-dir-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the collateral in the directory at start (source dir), skips other files and logs both', async () => {
    writeFileSync(join(dir, 'README.txt'), 'collateral for the air-gapped site\n');
    writeFileSync(join(dir, 'milan.pem'), readVectorText('snp', 'amd/milan/cert_chain_vcek.pem'));
    writeFileSync(join(dir, 'milan.crl'), readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der'));
    const db = await createTestDatabase(kind);
    const kekDir = mkdtempSync(join(tmpdir(), 'keyward-collateral-kek-'));
    const env = { KEYWARD_COLLATERAL_DIR: dir, KEYWARD_KEK: `file:${join(kekDir, 'kek')}` };
    const kw = await startTestKeyward(kind, { db, env });
    try {
      const items = await listAll(kw);
      expect(items.map((i) => [i.kind, i.label, i.source, i.name]).sort()).toEqual([
        ['certificate', 'ARK-Milan', 'dir', 'milan.pem'],
        ['certificate', 'SEV-Milan', 'dir', 'milan.pem'],
        ['crl', 'CRL by ARK-Milan', 'dir', 'milan.crl'],
      ]);
      const line = kw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'collateral directory loaded');
      expect(line).toMatchObject({ dir, items: 3, added: 3, skipped: ['README.txt'] });
      expect((line?.['loaded'] as string[]).filter((l) => l.startsWith('crl: CRL by ARK-Milan'))).toHaveLength(1);
      const load = (await kw.request('GET', '/v1/audit?action=collateral.load')).json().items;
      expect(load).toHaveLength(1);
      expect(load[0]).toMatchObject({ actor: 'system', details: { source: 'dir', count: 3, added: 3 } });
    } finally {
      await kw.close();
    }
    // A restart loads the same directory again: nothing new is stored or audited.
    const again = await startTestKeyward(kind, { db, env });
    try {
      expect((await listAll(again)).length).toBe(3);
      expect((await again.request('GET', '/v1/audit?action=collateral.load')).json().items).toHaveLength(1);
      const line = again.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'collateral directory loaded');
      expect(line).toMatchObject({ items: 3, added: 0 });
    } finally {
      await again.close();
      await db.drop();
      rmSync(kekDir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a broken collateral file (ERR_COLLATERAL_MALFORMED) and on an unreadable directory', async () => {
    const tcb = JSON.parse(readVectorText('intel', TDX_SET, 'tcb_info.json')) as { tcbInfo: Record<string, unknown> };
    tcb.tcbInfo['version'] = 9;
    const broken = mkdtempSync(join(tmpdir(), 'keyward-collateral-broken-'));
    writeFileSync(join(broken, 'tcb_info.json'), JSON.stringify(tcb));
    const db = await createTestDatabase(kind);
    try {
      await expect(startTestKeyward(kind, { db, env: { KEYWARD_COLLATERAL_DIR: broken } })).rejects.toMatchObject({ code: 'ERR_COLLATERAL_MALFORMED' });
      await expect(startTestKeyward(kind, { db, env: { KEYWARD_COLLATERAL_DIR: vectorPath('no-such-dir') } })).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    } finally {
      rmSync(broken, { recursive: true, force: true });
      await db.drop();
    }
  });
});
