// Where a workload's evidence comes from (docs/design.md "Release protocol", steps 2-3): one interface for the
// configfs-tsm, GPU-command and simulator providers, returning the JSON wire form `POST /v1/attest` takes.
import { KeywardError, type ErrorCode, type KeywardErrorOptions } from '../../errors.js';
import { toBase64 } from '../../encoding.js';
import type { EvidenceItem } from '../../evidence/types.js';

/** One evidence item as JSON (docs/design.md "Release protocol", step 3), as src/evidence/wire.ts decodes it. */
export type WireEvidence =
  | { readonly type: 'snp'; readonly report: string; readonly certs: readonly string[] }
  | { readonly type: 'tdx' | 'sgx'; readonly quote: string }
  | { readonly type: 'nvidia-gpu'; readonly report: string; readonly certChain: string }
  | { readonly type: 'nvidia-nras'; readonly token: string }
  | { readonly type: 'nitro'; readonly document: string };

export interface EvidenceProvider {
  /** What produces the evidence, for messages and logs ("configfs-tsm", "gpu-cmd", "simulator:snp"). */
  readonly name: string;
  /**
   * Evidence bound to `bind` (64 bytes, SHA-512(nonce ‖ JWK thumbprint)): REPORT_DATA = bind for CPU TEEs,
   * the SPDM nonce = bind[0..32) for GPUs.
   */
  collect(bind: Uint8Array): Promise<WireEvidence[]>;
}

export const BIND_LENGTH = 64;
export const GPU_NONCE_LENGTH = 32;

export type AgentErrorCode = Extract<ErrorCode, `ERR_AGENT_${string}`>;

/** Evidence could not be produced inside the workload; `code` says why, `cause` holds the system error. */
export class EvidenceProviderError extends KeywardError {
  declare readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options: KeywardErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Refuses a binding that is not 64 bytes (a caller bug: nothing could verify such evidence). */
export function checkBind(bind: Uint8Array): void {
  if (!(bind instanceof Uint8Array) || bind.length !== BIND_LENGTH) {
    throw new EvidenceProviderError('ERR_AGENT_OPTIONS_INVALID', `The release binding must be ${BIND_LENGTH} bytes.`);
  }
}

/** The GPU's SPDM request nonce for a binding: its first 32 bytes. */
export function gpuNonceOf(bind: Uint8Array): Uint8Array {
  return bind.subarray(0, GPU_NONCE_LENGTH);
}

/** The JSON wire form of a decoded evidence item (the inverse of decodeEvidenceItem). */
export function toWireEvidence(item: EvidenceItem): WireEvidence {
  switch (item.type) {
    case 'snp':
      return { type: 'snp', report: toBase64(item.report), certs: item.certs.map(toBase64) };
    case 'tdx':
    case 'sgx':
      return { type: item.type, quote: toBase64(item.quote) };
    case 'nvidia-gpu':
      return { type: 'nvidia-gpu', report: toBase64(item.report), certChain: item.certChain };
    case 'nvidia-nras':
      return { type: 'nvidia-nras', token: item.token };
    case 'nitro':
      return { type: 'nitro', document: toBase64(item.document) };
  }
}

/** Providers in sequence (e.g. the CPU TEE, then its GPUs): one set of evidence, all bound to `bind`. */
export function composeProviders(providers: readonly EvidenceProvider[]): EvidenceProvider {
  if (providers.length === 0) throw new EvidenceProviderError('ERR_AGENT_OPTIONS_INVALID', 'No evidence provider was configured.');
  if (providers.length === 1) return providers[0] as EvidenceProvider;
  return {
    name: providers.map((p) => p.name).join('+'),
    async collect(bind) {
      checkBind(bind);
      const out: WireEvidence[] = [];
      for (const provider of providers) out.push(...(await provider.collect(bind)));
      return out;
    },
  };
}
