// Runs once before the suite: checks the shared vectors are reachable so a missing checkout fails loudly.
import { existsSync } from 'node:fs';
import { VECTORS_DIR } from './vectors.js';

export default function setup(): void {
  if (!existsSync(VECTORS_DIR)) {
    throw new Error(`Test vectors not found at ${VECTORS_DIR}; set KEYWARD_VECTORS_DIR.`);
  }
}
