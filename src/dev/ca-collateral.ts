// What a server needs, besides the evidence itself, to verify simulated evidence (docs/simulator.md): the
// development CA's CRLs, Intel TCB Info / TD-QE Identity and TCB Signing chain, NVIDIA RIMs, in the formats
// src/collateral/recognize.ts recognizes. Valid 90 days; renewed (and kept in dev-ca/collateral.json) when
// less than a week remains. `writeDevCaBundle` lays out `keyward dev ca --out DIR`.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DevCa } from './ca.js';
import { crlPem, writeFileAtomic } from './ca-store.js';
import { createArkCrl } from './snp.js';
import { createDcapCrls, signQeIdentity, signTcbInfo } from './dcap.js';
import { qeIdentityBody, tcbInfoBody } from './dcap-collateral.js';
import { mintFirmwareRims } from './nvidia-evidence.js';
import { createCrl, type DevCertificate } from './pki.js';

const DAY_MS = 24 * 3600 * 1000;
export const COLLATERAL_LIFETIME_DAYS = 90;
export const COLLATERAL_RENEW_DAYS = 7;
/** Issued an hour early so a server whose clock lags the agent's accepts fresh collateral. */
const BACKDATE_MS = 3600 * 1000;
const FORMAT = 'keyward-dev-ca-collateral/1';
/** TEE_TCB_SVN of the simulated TDX platform (the quote minter's default): module TDX_01 at SVN 6. */
const TDX_TCB_SVN = [6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

export interface DevCaFile {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface DevCaCollateral {
  readonly issuedAt: Date;
  readonly nextUpdate: Date;
  readonly files: readonly DevCaFile[];
}

const text = (name: string, value: string): DevCaFile => ({ name, data: new Uint8Array(Buffer.from(value, 'utf8')) });
const pems = (...certs: DevCertificate[]): string => certs.map((c) => `${c.pem.trim()}\n`).join('');

async function nvidiaFiles(ca: DevCa, window: { thisUpdate: Date; nextUpdate: Date }): Promise<DevCaFile[]> {
  const { pki, rimPki, firmware } = ca.nvidia;
  const rims = mintFirmwareRims(rimPki, firmware, pki.chip);
  const issuers: [string, DevCertificate][] = [
    ['device-identity-ca', pki.deviceRoot],
    ['identity', pki.identity],
    ['provisioner', pki.provisioner],
    ['corim-signing-root-ca', rimPki.root],
    ['reference-value-ca', rimPki.ca],
    ['reference-value-l3', rimPki.l3],
  ];
  const crls = await Promise.all(issuers.map(async ([name, cert]) => text(`nvidia-${name}.crl.pem`, crlPem(await createCrl(cert, window)))));
  return [
    text(`nvidia-rim-driver-${firmware.driverVersion}.xml`, rims.driver),
    text(`nvidia-rim-vbios-${firmware.vbiosVersion}.xml`, rims.vbios),
    ...crls,
  ];
}

/**
 * The simulated TDX platform's TCB Info (signed JSON text) for the given dates; `tcbEvaluationDataNumber`
 * defaults to Intel's 17 (a newer number mimics Intel's next TCB recovery).
 */
export function devTdxTcbInfo(ca: DevCa, dates: { issueDate: Date; nextUpdate: Date }, tcbEvaluationDataNumber?: number): string {
  const pki = ca.intel;
  const { fmspc, pceId, pceSvn, sgxTcbComponents } = pki.pckValues;
  const tcbInfo = tcbInfoBody({
    tee: 'tdx',
    fmspc,
    pceId,
    ...dates,
    ...(tcbEvaluationDataNumber === undefined ? {} : { tcbEvaluationDataNumber }),
    levels: [{ sgx: sgxTcbComponents, pceSvn, tdx: TDX_TCB_SVN, status: 'UpToDate' }],
    moduleIdentities: [{ id: 'TDX_01', levels: [{ isvSvn: 6, status: 'UpToDate' }] }],
  });
  return signTcbInfo(pki, tcbInfo);
}

async function intelFiles(ca: DevCa, issueDate: Date, nextUpdate: Date): Promise<DevCaFile[]> {
  const pki = ca.intel;
  const { rootCrl, pckCrl } = await createDcapCrls(pki, { thisUpdate: issueDate, nextUpdate });
  const dates = { issueDate, nextUpdate };
  return [
    text('intel-pck-ca-chain.pem', pems(pki.pckCa, pki.root)),
    text('intel-tcb-signing-chain.pem', pems(pki.tcbSigning, pki.root)),
    text('intel-root-ca.crl.pem', crlPem(rootCrl)),
    text('intel-pck-ca.crl.pem', crlPem(pckCrl)),
    text('intel-tdx-tcb-info.json', devTdxTcbInfo(ca, dates)),
    text('intel-td-qe-identity.json', signQeIdentity(pki, qeIdentityBody({ id: 'TD_QE', ...dates }))),
  ];
}

/** Mints a fresh set of collateral valid from `issuedAt` to `nextUpdate`. */
export async function mintDevCaCollateral(ca: DevCa, issuedAt: Date, nextUpdate: Date): Promise<DevCaFile[]> {
  const window = { thisUpdate: issuedAt, nextUpdate };
  const amd = ca.amd.pki;
  const product = amd.product.toLowerCase();
  return [
    text(`amd-${product}-cert-chain.pem`, pems(amd.ask, amd.ark)),
    text(`amd-ark-${product}.crl.pem`, crlPem(await createArkCrl(amd, window))),
    ...(await intelFiles(ca, issuedAt, nextUpdate)),
    ...(await nvidiaFiles(ca, window)),
  ];
}

function parseStored(raw: string): DevCaCollateral | undefined {
  try {
    const doc = JSON.parse(raw) as { format?: unknown; issuedAt?: unknown; nextUpdate?: unknown; files?: unknown };
    if (doc.format !== FORMAT || typeof doc.issuedAt !== 'string' || typeof doc.nextUpdate !== 'string' || !Array.isArray(doc.files)) return undefined;
    const files = (doc.files as { name?: unknown; data?: unknown }[]).map((f) => {
      if (typeof f.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(f.name) || typeof f.data !== 'string') throw new Error('bad entry');
      return { name: f.name, data: new Uint8Array(Buffer.from(f.data, 'base64')) };
    });
    const issuedAt = new Date(doc.issuedAt);
    const nextUpdate = new Date(doc.nextUpdate);
    if (Number.isNaN(issuedAt.getTime()) || Number.isNaN(nextUpdate.getTime())) return undefined;
    return { issuedAt, nextUpdate, files };
  } catch {
    return undefined;
  }
}

/** Whether collateral is still usable at `now` without renewal (more than a week left, not from the future). */
export function collateralIsCurrent(c: Pick<DevCaCollateral, 'issuedAt' | 'nextUpdate'>, now: Date): boolean {
  const t = now.getTime();
  return t >= c.issuedAt.getTime() && t < c.nextUpdate.getTime() - COLLATERAL_RENEW_DAYS * DAY_MS;
}

/**
 * The CA's collateral at `now`: the stored set while it has more than a week left, else a new one
 * (valid 90 days) that replaces it atomically. Evidence minted by the CA verifies with either set.
 */
export async function devCaCollateral(ca: DevCa, now: Date): Promise<DevCaCollateral> {
  const path = join(ca.dir, 'collateral.json');
  const stored = await readFile(path, 'utf8').then(parseStored, () => undefined);
  if (stored && collateralIsCurrent(stored, now)) return stored;
  const issuedAt = new Date(now.getTime() - BACKDATE_MS);
  const nextUpdate = new Date(now.getTime() + COLLATERAL_LIFETIME_DAYS * DAY_MS);
  const files = await mintDevCaCollateral(ca, issuedAt, nextUpdate);
  const doc = {
    format: FORMAT,
    issuedAt: issuedAt.toISOString(),
    nextUpdate: nextUpdate.toISOString(),
    files: files.map((f) => ({ name: f.name, data: Buffer.from(f.data).toString('base64') })),
  };
  await writeFileAtomic(path, `${JSON.stringify(doc)}\n`);
  return { issuedAt, nextUpdate, files };
}

export interface DevCaBundle {
  /** DIR/anchors: the roots only (point KEYWARD_EXTRA_ANCHORS here). */
  readonly anchorsDir: string;
  /** DIR/collateral (point KEYWARD_COLLATERAL_DIR here). */
  readonly collateralDir: string;
  /** Every file written, absolute paths. */
  readonly written: readonly string[];
  readonly collateral: Pick<DevCaCollateral, 'issuedAt' | 'nextUpdate'>;
}

/** Writes DIR/anchors/*.pem (the CA's roots) and DIR/collateral/* (its current collateral). */
export async function writeDevCaBundle(ca: DevCa, outDir: string, now: Date): Promise<DevCaBundle> {
  const anchorsDir = join(outDir, 'anchors');
  const collateralDir = join(outDir, 'collateral');
  await mkdir(anchorsDir, { recursive: true });
  await mkdir(collateralDir, { recursive: true });
  const collateral = await devCaCollateral(ca, now);
  const written: string[] = [];
  for (const root of ca.roots) {
    const path = join(anchorsDir, root.file);
    await writeFileAtomic(path, `${root.cert.pem.trim()}\n`);
    written.push(path);
  }
  for (const file of collateral.files) {
    const path = join(collateralDir, file.name);
    await writeFileAtomic(path, file.data);
    written.push(path);
  }
  return { anchorsDir, collateralDir, written, collateral: { issuedAt: collateral.issuedAt, nextUpdate: collateral.nextUpdate } };
}
