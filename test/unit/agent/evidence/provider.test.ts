// The provider interface: wire form round trips through decodeEvidenceItem, composition keeps order and
// binding, and the flag rules of createEvidenceProvider.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkBind, composeProviders, gpuNonceOf, toWireEvidence, type EvidenceProvider, type WireEvidence } from '../../../../src/agent/evidence/provider.js';
import { createEvidenceProvider } from '../../../../src/cli/evidence-select.js';
import { decodeEvidenceItem } from '../../../../src/evidence/wire.js';
import type { EvidenceItem } from '../../../../src/evidence/types.js';

const bytes = fc.uint8Array({ minLength: 1, maxLength: 64 });
const text = fc.string({ minLength: 1, maxLength: 40 });
const items: fc.Arbitrary<EvidenceItem> = fc.oneof(
  fc.record({ type: fc.constant('snp' as const), report: bytes, certs: fc.array(bytes, { maxLength: 3 }) }),
  fc.record({ type: fc.constantFrom('tdx' as const, 'sgx' as const), quote: bytes }),
  fc.record({ type: fc.constant('nvidia-gpu' as const), report: bytes, certChain: text }),
  fc.record({ type: fc.constant('nvidia-nras' as const), token: text }),
  fc.record({ type: fc.constant('nitro' as const), document: bytes }),
);

function fixed(name: string, wire: WireEvidence[], seen: Uint8Array[]): EvidenceProvider {
  return {
    name,
    async collect(bind) {
      seen.push(bind);
      return wire;
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('wire evidence', () => {
  it('toWireEvidence is the inverse of decodeEvidenceItem (through JSON)', () => {
    fc.assert(
      fc.property(items, (item) => {
        const decoded = decodeEvidenceItem(JSON.parse(JSON.stringify(toWireEvidence(item))));
        expect(decoded).toEqual(item);
      }),
      { numRuns: 200 },
    );
  });

  it('checkBind takes exactly 64 bytes; the GPU nonce is the first 32', () => {
    const bind = new Uint8Array(randomBytes(64));
    expect(() => checkBind(bind)).not.toThrow();
    for (const bad of [new Uint8Array(32), new Uint8Array(65), new Uint8Array(0)]) {
      expect(() => checkBind(bad)).toThrow(expect.objectContaining({ code: 'ERR_AGENT_OPTIONS_INVALID' }));
    }
    expect(Buffer.from(gpuNonceOf(bind)).equals(Buffer.from(bind.subarray(0, 32)))).toBe(true);
  });
});

describe('composeProviders', () => {
  it('concatenates the providers in order, each given the same binding', async () => {
    const seen: Uint8Array[] = [];
    const cpu: WireEvidence = { type: 'tdx', quote: 'AA==' };
    const gpu: WireEvidence = { type: 'nvidia-gpu', report: 'AQ==', certChain: 'pem' };
    const both = composeProviders([fixed('cpu', [cpu], seen), fixed('gpus', [gpu, gpu], seen)]);
    const bind = new Uint8Array(randomBytes(64));
    expect(both.name).toBe('cpu+gpus');
    expect(await both.collect(bind)).toEqual([cpu, gpu, gpu]);
    expect(seen).toEqual([bind, bind]);
    expect(await codeOf(both.collect(new Uint8Array(10)))).toBe('ERR_AGENT_OPTIONS_INVALID');
    expect(() => composeProviders([])).toThrow(expect.objectContaining({ code: 'ERR_AGENT_OPTIONS_INVALID' }));
  });
});

describe('createEvidenceProvider (the workload flags)', () => {
  const base = { dataDir: '/nonexistent/keyward', now: new Date('2025-06-01T00:00:00Z') };

  it('uses configfs-tsm without --simulate, adding gpu-cmd when given', async () => {
    expect((await createEvidenceProvider(base)).name).toBe('configfs-tsm');
    expect((await createEvidenceProvider({ ...base, gpuEvidenceCmd: 'nvtrust-evidence', env: {} })).name).toBe('configfs-tsm+gpu-cmd');
  });

  it('refuses flag combinations that make no sense (ERR_AGENT_OPTIONS_INVALID)', async () => {
    expect(await codeOf(createEvidenceProvider({ ...base, gpus: 2 }))).toBe('ERR_AGENT_OPTIONS_INVALID');
    expect(await codeOf(createEvidenceProvider({ ...base, measurement: 'ab'.repeat(48) }))).toBe('ERR_AGENT_OPTIONS_INVALID');
    expect(await codeOf(createEvidenceProvider({ ...base, simulate: 'snp', gpus: 1, gpuEvidenceCmd: 'x' }))).toBe('ERR_AGENT_OPTIONS_INVALID');
    expect(await codeOf(createEvidenceProvider({ ...base, simulate: 'snp', measurement: 'abc' }))).toBe('ERR_AGENT_OPTIONS_INVALID');
    expect(await codeOf(createEvidenceProvider({ ...base, gpuEvidenceCmd: '   ' }))).toBe('ERR_AGENT_OPTIONS_INVALID');
  });
});
