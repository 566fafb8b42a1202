// Intel Enclave Identity v2 for the Quoting Enclave (PCS API v4 appendix B; id "QE" for SGX, "TD_QE" for
// TDX), parsed as Intel's QVL does (EnclaveIdentityV2.cpp), and the QE report check against it
// (EnclaveReportVerifier.cpp, QVL 4.1.2.9.5–4.1.2.9.10).
import { createHash } from 'node:crypto';
import { EvidenceError } from '../../errors.js';
import { JsonFields } from './json-fields.js';
import type { SgxReportFields } from './reports.js';
import { SignedJsonError, splitSignedJson } from './signed-json.js';

/** Statuses an Enclave Identity TCB level may carry (QVL parseStringToTcbStatus). */
export const QE_LEVEL_STATUSES = ['UpToDate', 'ConfigurationNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded', 'Revoked'] as const;
export type QeLevelStatus = (typeof QE_LEVEL_STATUSES)[number];

export interface QeTcbLevel {
  readonly isvSvn: number;
  readonly tcbDate: string;
  readonly status: QeLevelStatus;
  readonly advisoryIds: readonly string[];
}

export interface QeIdentity {
  readonly id: 'QE' | 'QVE' | 'TD_QE';
  readonly version: 2;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber: number;
  readonly miscselect: Uint8Array;
  readonly miscselectMask: Uint8Array;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  /** In document order (QVL walks them as served). */
  readonly tcbLevels: readonly QeTcbLevel[];
}

export interface SignedQeIdentity {
  readonly identity: QeIdentity;
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly sha256: string;
}

const CODE = 'ERR_DCAP_QE_IDENTITY_INVALID';

export function parseQeIdentityBody(body: Record<string, unknown>): QeIdentity {
  const f = JsonFields.of(body, CODE, 'enclaveIdentity');
  const version = f.uint('version');
  // Version 1 is deprecated and has another shape; QVL refuses it for TDX. Fail closed for both.
  if (version !== 2) f.fail(`version ${version} is not supported (2 is).`);
  const levels = f.array('tcbLevels', { nonEmpty: true }).map((value, i) => {
    const l = JsonFields.of(value, CODE, `enclaveIdentity.tcbLevels[${i}]`);
    return {
      isvSvn: l.object('tcb').uint('isvsvn', 0xffff),
      tcbDate: l.dateText('tcbDate'),
      status: l.oneOf('tcbStatus', QE_LEVEL_STATUSES),
      advisoryIds: l.stringsOptional('advisoryIDs'),
    };
  });
  return {
    id: f.oneOf('id', ['QE', 'QVE', 'TD_QE'] as const),
    version: 2,
    issueDate: f.date('issueDate'),
    nextUpdate: f.date('nextUpdate'),
    tcbEvaluationDataNumber: f.uint('tcbEvaluationDataNumber'),
    miscselect: f.hex('miscselect', 4),
    miscselectMask: f.hex('miscselectMask', 4),
    attributes: f.hex('attributes', 16),
    attributesMask: f.hex('attributesMask', 16),
    mrSigner: f.hex('mrsigner', 32),
    isvProdId: f.uint('isvprodid', 0xffff),
    tcbLevels: levels,
  };
}

/** Parses an Enclave Identity document as PCS serves it. Any malformation is ERR_DCAP_QE_IDENTITY_INVALID. */
export function parseQeIdentity(text: string): SignedQeIdentity {
  let split;
  try {
    split = splitSignedJson(text, ['enclaveIdentity', 'qeIdentity']);
  } catch (err) {
    if (err instanceof SignedJsonError) throw new EvidenceError(CODE, `QE Identity: ${err.message}.`);
    throw err;
  }
  return {
    identity: parseQeIdentityBody(split.body),
    signedBytes: new Uint8Array(Buffer.from(split.bodyText, 'utf8')),
    signature: split.signature,
    sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
  };
}

/** The QE's standing per its identity: Intel's four outcomes plus the level that decided it. */
export interface QeIdentityResult {
  /** `NotSupported`: no level covers the QE's ISVSVN (QVL STATUS_SGX_ENCLAVE_REPORT_ISVSVN_NOT_SUPPORTED). */
  readonly status: 'UpToDate' | 'OutOfDate' | 'Revoked' | 'NotSupported';
  readonly level?: QeTcbLevel;
}

function maskedEqual(value: Uint8Array, mask: Uint8Array, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) {
    if (((value[i] ?? 0) & (mask[i] ?? 0)) !== expected[i]) return false;
  }
  return true;
}

function mismatch(what: string): never {
  throw new EvidenceError('ERR_DCAP_QE_IDENTITY_MISMATCH', `The Quoting Enclave's ${what} does not match its Intel identity.`);
}

/**
 * Checks the QE report against the identity (MISCSELECT and ATTRIBUTES under their masks, byte-wise in
 * report order; MRSIGNER; ISVPRODID) and grades its ISVSVN: the first level with isvsvn ≤ the QE's gives
 * UpToDate, Revoked, or (any other status) OutOfDate; no such level gives NotSupported, which the TCB
 * evaluation turns into ERR_DCAP_TCB_NOT_SUPPORTED.
 */
export function checkQeIdentity(identity: QeIdentity, qe: SgxReportFields): QeIdentityResult {
  if (!maskedEqual(qe.miscSelectBytes, identity.miscselectMask, identity.miscselect)) mismatch('MISCSELECT');
  if (!maskedEqual(qe.attributes, identity.attributesMask, identity.attributes)) mismatch('ATTRIBUTES');
  if (!Buffer.from(identity.mrSigner).equals(Buffer.from(qe.mrSigner))) mismatch('MRSIGNER');
  if (identity.isvProdId !== qe.isvProdId) mismatch('ISVPRODID');
  const level = identity.tcbLevels.find((l) => l.isvSvn <= qe.isvSvn);
  if (!level) return { status: 'NotSupported' };
  const status = level.status === 'UpToDate' ? 'UpToDate' : level.status === 'Revoked' ? 'Revoked' : 'OutOfDate';
  return { status, level };
}
