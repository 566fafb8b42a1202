// Loads the Intel DCAP vectors (test/vectors/intel): the manifest, quotes and collateral sets as bags.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addToCollateral, emptyCollateral, recognizeCollateral } from '../../src/collateral/recognize.js';
import type { Collateral } from '../../src/evidence/types.js';
import { readManifest, readVector, vectorPath } from './vectors.js';

export interface IntelEvaluation {
  readonly collateral_set: string;
  readonly verification_time: string;
  readonly expected: {
    readonly tcb_status: string;
    readonly advisory_ids?: readonly string[];
    readonly sgx_tcb_level?: { readonly tcbDate: string };
    readonly tdx_tcb_level?: { readonly tcbDate: string };
    readonly tdx_module?: { readonly module_identity?: string; readonly status?: string };
    readonly qe_identity: { readonly status: string };
  };
}

export interface IntelQuote {
  readonly id: string;
  readonly file: string;
  readonly sha256: string;
  readonly length: number;
  readonly quote_version: number;
  readonly header: { readonly qe_svn: number; readonly pce_svn: number; readonly user_data: string };
  readonly signed_region: { readonly offset: number; readonly length: number };
  readonly signature_data: {
    readonly offset: number;
    readonly length: number;
    readonly outer_cert_data_type: number;
    readonly inner_cert_data_type: number | null;
    readonly qe_auth_data_len: number;
    readonly attestation_key: string;
  };
  readonly tee_type: 'TDX' | 'SGX';
  readonly body_type: string;
  readonly td_report?: Record<string, string>;
  readonly td_attributes_decoded?: Record<string, boolean>;
  readonly enclave_report?: Record<string, string | number | boolean>;
  readonly qe_report: {
    readonly mrenclave: string;
    readonly mrsigner: string;
    readonly isvprodid: number;
    readonly isvsvn: number;
    readonly attributes: string;
    readonly cpusvn: string;
    readonly report_data: string;
  };
  readonly pck: {
    readonly fmspc: string;
    readonly pceid: string;
    readonly pcesvn: number;
    readonly cpusvn: string;
    readonly serial: string;
    readonly sgx_tcb_comp_svns: readonly number[];
    readonly sgx_type: number;
    readonly ppid: string;
    readonly issuer_ca: string;
    readonly chain_certs: number;
  };
  readonly evaluations: readonly IntelEvaluation[];
}

export interface IntelManifest {
  readonly quotes: readonly IntelQuote[];
  readonly collateral_sets: Record<string, { readonly dir: string; readonly tee: 'tdx' | 'sgx' }>;
}

export const intelManifest = readManifest<IntelManifest>('intel');

const bags = new Map<string, Collateral>();

/** Every file of a collateral set, recognized by content into one bag (as `keyward verify --collateral DIR` does). */
export function collateralSet(name: string): Collateral {
  let bag = bags.get(name);
  if (!bag) {
    const set = intelManifest.collateral_sets[name];
    if (!set) throw new Error(`unknown collateral set ${name}`);
    const dir = vectorPath('intel', set.dir);
    bag = emptyCollateral();
    for (const file of readdirSync(dir).sort()) {
      bag = addToCollateral(bag, recognizeCollateral(new Uint8Array(readFileSync(join(dir, file))), file));
    }
    bags.set(name, bag);
  }
  return bag;
}

export function intelQuote(q: IntelQuote): Uint8Array {
  return readVector('intel', q.file);
}

export function intelRootDer(): Uint8Array {
  return readVector('intel', 'intel_sgx_root_ca.der');
}
