// `keyward verify`: offline evidence verification (DESIGN.md "CLI"). Filled in as verifiers land.
import { UsageError } from './main.js';

export async function verifyCommand(): Promise<number> {
  throw new UsageError('verify is not available in this build yet');
}
