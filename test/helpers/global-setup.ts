// Runs once before the suite: checks the vectors and outside tools are there and builds a migrated PGlite
// template that storage tests load instead of creating and migrating a database each time.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTORS_DIR } from './vectors.js';
import { assertRequirements } from './requirements.js';
import { openDatabase } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrate.js';

export const TEST_TMP = join(process.cwd(), '.test-tmp');
export const PGLITE_TEMPLATE = join(TEST_TMP, 'pglite-template.tar');

export default async function setup(): Promise<void> {
  if (!existsSync(VECTORS_DIR)) {
    throw new Error(`Test vectors not found at ${VECTORS_DIR}; set KEYWARD_VECTORS_DIR.`);
  }
  assertRequirements();
  mkdirSync(TEST_TMP, { recursive: true });
  const db = await openDatabase({ kind: 'pglite', dataDir: undefined });
  try {
    await migrate(db);
    const snapshot = await (db.snapshot as () => Promise<Blob>)();
    writeFileSync(PGLITE_TEMPLATE, Buffer.from(await snapshot.arrayBuffer()));
  } finally {
    await db.close();
  }
}
