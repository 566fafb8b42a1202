// The keks table: which KEKs exist, which one is active (seals new records).
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { KeksTable } from './schema.js';

export type KekRow = Selectable<KeksTable>;

export async function listKekRows(db: Db): Promise<KekRow[]> {
  return db.selectFrom('keks').selectAll().orderBy('createdAt').execute();
}

/** The active KEK row, share-locked so a rotation cannot switch it until this transaction ends. */
export async function activeKekRow(db: Db, opts: { lock?: boolean } = {}): Promise<KekRow | undefined> {
  let q = db.selectFrom('keks').selectAll().where('state', '=', 'active');
  if (opts.lock) q = q.forShare();
  return q.executeTakeFirst();
}

export async function insertKekRow(db: Db, row: { id: string; uri: string; state: KekRow['state']; at: Date }): Promise<void> {
  await db.insertInto('keks').values({ id: row.id, uri: row.uri, state: row.state, createdAt: row.at, retiredAt: null }).execute();
}

export async function setKekState(db: Db, id: string, state: KekRow['state'], at?: Date): Promise<void> {
  await db
    .updateTable('keks')
    .set({ state, ...(state === 'retired' && at ? { retiredAt: at } : {}) })
    .where('id', '=', id)
    .execute();
}
