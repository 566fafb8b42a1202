import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EvidenceError } from '../../../../src/errors.js';
import { vendorAnchors } from '../../../../src/evidence/anchors.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { verifyEvidence } from '../../../../src/evidence/verify.js';
import type { VerifyContext } from '../../../../src/evidence/types.js';
import { mintSgxQuote, mintTdxQuote } from '../../../../src/dev/dcap-quote.js';
import { parsePckChainPem } from '../../../../src/evidence/dcap/pck.js';
import { parseQuote } from '../../../../src/evidence/dcap/quote.js';
import { collateralSet, intelManifest, intelQuote, type IntelEvaluation } from '../../../helpers/intel.js';
import { createDcapFixture, type DcapFixture } from '../../../helpers/dcap-fixture.js';

/** Resolves to the error code, 'accepted', or rethrows anything that is not an EvidenceError. */
async function outcome(type: 'tdx' | 'sgx', quote: Uint8Array, ctx: VerifyContext): Promise<string> {
  try {
    await verifyEvidence({ type, quote }, ctx);
    return 'accepted';
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
}

const realCases = intelManifest.quotes.map((q) => {
  const e = q.evaluations[0] as IntelEvaluation;
  const ctx: VerifyContext = { collateral: collateralSet(e.collateral_set), anchors: vendorAnchors(), now: new Date(e.verification_time), memo: new LruMemo() };
  return { type: q.tee_type === 'TDX' ? ('tdx' as const) : ('sgx' as const), quote: intelQuote(q), ctx };
});

function leafOf(quote: Uint8Array): string | undefined {
  return parsePckChainPem(parseQuote(quote).pckChain)[0]?.sha256;
}

let f: DcapFixture;
beforeAll(async () => {
  f = await createDcapFixture();
});

describe('verification under fast-check: only typed evidence errors, never a hang', () => {
  it('random bytes as TDX and SGX quotes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), fc.constantFrom('tdx' as const, 'sgx' as const), async (bytes, type) => {
        expect(await outcome(type, bytes, realCases[0]?.ctx as VerifyContext)).toMatch(/^ERR_/);
      }),
      { numRuns: 300 },
    );
  });

  it('real quotes with a few bytes changed or cut off', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...realCases),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 40 }),
        async (c, edits, cut) => {
          const q = new Uint8Array(c.quote);
          for (const [at, v] of edits) q[at % q.length] = v;
          const result = await outcome(c.type, q.subarray(0, q.length - cut), c.ctx);
          const unchanged = cut === 0 && Buffer.from(q).equals(Buffer.from(c.quote));
          if (!unchanged) expect(result === 'accepted' || result.startsWith('ERR_')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('test-CA quotes with a changed byte are refused unless only PEM padding changed', async () => {
    const tdx = mintTdxQuote(f.tdxQe, {}, { td15: true });
    const sgx = mintSgxQuote(f.sgxQe);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(['tdx', tdx] as const, ['sgx', sgx] as const), fc.nat(), fc.integer({ min: 1, max: 255 }), async ([type, quote], at, xor) => {
        const q = new Uint8Array(quote);
        const i = at % q.length;
        q[i] = (q[i] as number) ^ xor;
        const result = await outcome(type, q, f.ctx(type));
        // Nothing signs the PEM text itself: an accepted change must leave the PCK leaf as it was (a changed
        // CA or root copy is only a hint; the path is built from the certificates whose signatures hold).
        if (result === 'accepted') expect(leafOf(q)).toBe(leafOf(quote));
        else expect(result).toMatch(/^ERR_(DCAP|CHAIN|CRL|COLLATERAL)_/);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated TCB Info and QE Identity text', async () => {
    const c = realCases[0] as (typeof realCases)[number];
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.string({ minLength: 1, maxLength: 3 }), fc.boolean(), async (at, span, insert, tcb) => {
        const texts = tcb ? c.ctx.collateral.tcbInfos : c.ctx.collateral.qeIdentities;
        const mutated = texts.map((t) => {
          const i = at % t.length;
          return t.slice(0, i) + insert + t.slice(i + (span % 4));
        });
        const collateral = tcb ? { ...c.ctx.collateral, tcbInfos: mutated } : { ...c.ctx.collateral, qeIdentities: mutated };
        const result = await outcome(c.type, c.quote, { ...c.ctx, collateral });
        expect(result === 'accepted' || result.startsWith('ERR_')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
