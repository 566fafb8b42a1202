// The store maps driver errors to its own: a duplicate name is a DuplicateRowError on PGlite and on
// Postgres alike, never a bare SQLSTATE 23505 reaching the broker.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { DuplicateRowError } from '../../../src/store/database.js';
import { insertKey } from '../../../src/store/keys-repo.js';
import { insertPolicy } from '../../../src/store/policies-repo.js';

describe.each(DB_KINDS)('store errors on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => t.drop());

  it('a second key with the same name is a DuplicateRowError naming the table', async () => {
    const key = { name: 'dup', kind: 'model' as const, description: '', labels: {}, origin: 'generated' as const, tenant: 'default', at: new Date() };
    await insertKey(t.database.db, { id: randomUUID(), ...key });
    const err = await insertKey(t.database.db, { id: randomUUID(), ...key }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateRowError);
    expect((err as DuplicateRowError).table).toBe('keys');
    expect((err as Error).message).not.toContain('23505');
  });

  it('a second policy with the same name in one tenant is a DuplicateRowError', async () => {
    await insertPolicy(t.database.db, { id: randomUUID(), tenant: 'default', name: 'dup-policy', at: new Date() });
    const err = await insertPolicy(t.database.db, { id: randomUUID(), tenant: 'default', name: 'dup-policy', at: new Date() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateRowError);
  });
});
