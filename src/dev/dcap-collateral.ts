// Bodies of look-alike Intel TCB Info (v2/v3, SGX and TDX) and QE Identity (v2) documents, with Intel's key
// order (PCS API v4 appendix A/B). Sign them with signTcbInfo / signQeIdentity from ./dcap.ts.

export interface DevTcbLevel {
  /** 16 SGX component SVNs. */
  readonly sgx: readonly number[];
  readonly pceSvn: number;
  /** 16 TDX component SVNs (TDX TCB Info only). */
  readonly tdx?: readonly number[];
  readonly status: string;
  readonly tcbDate?: string;
  readonly advisoryIds?: readonly string[];
}

export interface DevIsvLevel {
  readonly isvSvn: number;
  readonly status: string;
  readonly tcbDate?: string;
  readonly advisoryIds?: readonly string[];
}

export interface DevModuleIdentity {
  /** `TDX_01`, `TDX_03`, ... */
  readonly id: string;
  readonly mrSigner?: string;
  readonly attributes?: string;
  readonly attributesMask?: string;
  readonly levels: readonly DevIsvLevel[];
}

export interface TcbInfoBodyOptions {
  readonly tee: 'sgx' | 'tdx';
  /** 3 (default) or, for SGX only, 2. */
  readonly version?: 2 | 3;
  readonly fmspc: string;
  readonly pceId?: string;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber?: number;
  readonly levels: readonly DevTcbLevel[];
  /** TDX: the TDX 1.0 module (defaults to Intel's: zero mrsigner and attributes, full mask). */
  readonly tdxModule?: { readonly mrSigner: string; readonly attributes: string; readonly attributesMask: string };
  readonly moduleIdentities?: readonly DevModuleIdentity[];
}

const ZERO_MRSIGNER_SEAM = '0'.repeat(96);
const DEFAULT_DATE = '2024-03-13T00:00:00Z';

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function components(svns: readonly number[]): { svn: number }[] {
  return svns.map((svn) => ({ svn }));
}

function levelBody(level: DevTcbLevel, opts: TcbInfoBodyOptions): Record<string, unknown> {
  let tcb: Record<string, unknown>;
  if (opts.version === 2) {
    tcb = {};
    level.sgx.forEach((svn, i) => (tcb[`sgxtcbcomp${String(i + 1).padStart(2, '0')}svn`] = svn));
    tcb['pcesvn'] = level.pceSvn;
  } else {
    tcb = { sgxtcbcomponents: components(level.sgx), pcesvn: level.pceSvn };
    if (opts.tee === 'tdx') tcb['tdxtcbcomponents'] = components(level.tdx ?? new Array(16).fill(0));
  }
  return {
    tcb,
    tcbDate: level.tcbDate ?? DEFAULT_DATE,
    tcbStatus: level.status,
    ...(level.advisoryIds && level.advisoryIds.length > 0 ? { advisoryIDs: level.advisoryIds } : {}),
  };
}

function isvLevels(levels: readonly DevIsvLevel[]): Record<string, unknown>[] {
  return levels.map((l) => ({
    tcb: { isvsvn: l.isvSvn },
    tcbDate: l.tcbDate ?? DEFAULT_DATE,
    tcbStatus: l.status,
    ...(l.advisoryIds && l.advisoryIds.length > 0 ? { advisoryIDs: l.advisoryIds } : {}),
  }));
}

/** The inner `tcbInfo` object. */
export function tcbInfoBody(opts: TcbInfoBodyOptions): Record<string, unknown> {
  const version = opts.version ?? 3;
  const body: Record<string, unknown> = version === 3 ? { id: opts.tee === 'tdx' ? 'TDX' : 'SGX', version } : { version };
  Object.assign(body, {
    issueDate: iso(opts.issueDate),
    nextUpdate: iso(opts.nextUpdate),
    fmspc: opts.fmspc,
    pceId: opts.pceId ?? '0000',
    tcbType: 0,
    tcbEvaluationDataNumber: opts.tcbEvaluationDataNumber ?? 17,
  });
  if (opts.tee === 'tdx') {
    const m = opts.tdxModule;
    body['tdxModule'] = {
      mrsigner: m?.mrSigner ?? ZERO_MRSIGNER_SEAM,
      attributes: m?.attributes ?? '0000000000000000',
      attributesMask: m?.attributesMask ?? 'FFFFFFFFFFFFFFFF',
    };
    if (opts.moduleIdentities) {
      body['tdxModuleIdentities'] = opts.moduleIdentities.map((m) => ({
        id: m.id,
        mrsigner: m.mrSigner ?? ZERO_MRSIGNER_SEAM,
        attributes: m.attributes ?? '0000000000000000',
        attributesMask: m.attributesMask ?? 'FFFFFFFFFFFFFFFF',
        tcbLevels: isvLevels(m.levels),
      }));
    }
  }
  body['tcbLevels'] = opts.levels.map((l) => levelBody(l, { ...opts, version }));
  return body;
}

export interface QeIdentityBodyOptions {
  readonly id: 'QE' | 'TD_QE';
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber?: number;
  /** Hex, 32 bytes; defaults to Intel's QE / TD-QE signer. */
  readonly mrSigner?: string;
  readonly isvProdId?: number;
  readonly miscselect?: string;
  readonly miscselectMask?: string;
  readonly attributes?: string;
  readonly attributesMask?: string;
  readonly levels?: readonly DevIsvLevel[];
}

export const INTEL_QE_MRSIGNER = '8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF';
export const INTEL_TD_QE_MRSIGNER = 'DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5';

/** The inner `enclaveIdentity` object. */
export function qeIdentityBody(opts: QeIdentityBodyOptions): Record<string, unknown> {
  const td = opts.id === 'TD_QE';
  return {
    id: opts.id,
    version: 2,
    issueDate: iso(opts.issueDate),
    nextUpdate: iso(opts.nextUpdate),
    tcbEvaluationDataNumber: opts.tcbEvaluationDataNumber ?? 17,
    miscselect: opts.miscselect ?? '00000000',
    miscselectMask: opts.miscselectMask ?? 'FFFFFFFF',
    attributes: opts.attributes ?? '11000000000000000000000000000000',
    attributesMask: opts.attributesMask ?? 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: opts.mrSigner ?? (td ? INTEL_TD_QE_MRSIGNER : INTEL_QE_MRSIGNER),
    isvprodid: opts.isvProdId ?? (td ? 2 : 1),
    tcbLevels: isvLevels(opts.levels ?? [{ isvSvn: td ? 4 : 8, status: 'UpToDate' }]),
  };
}
