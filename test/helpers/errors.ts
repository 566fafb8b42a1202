// The code of the EvidenceError a call fails with: what verifier tests assert (other errors propagate).
import { EvidenceError } from '../../src/errors.js';

/** The EvidenceError a sync or async call fails with; the test fails when it succeeds. */
export async function evidenceErrorOf(fn: () => unknown): Promise<EvidenceError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof EvidenceError) return err;
    throw err;
  }
  throw new Error('expected an EvidenceError');
}

/** The EvidenceError code of a sync or async call, or undefined when it succeeds. */
export async function evidenceCodeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
  return undefined;
}

/** The EvidenceError code of a synchronous call, or undefined when it succeeds. */
export function evidenceCodeOfSync(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
  return undefined;
}
