// Opens keyward's database: PGlite (embedded, in the data dir) or Postgres 15+ (KEYWARD_DATABASE_URL),
// both behind kysely's own PostgresDialect, so every query and migration is the same SQL on both.
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { Kysely, PostgresDialect, CamelCasePlugin, sql } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PglitePool } from './pglite-pool.js';
import { lockDataDir } from './pglite-lock.js';
import { listenPostgres, type NotificationHandlers, type Subscription } from './notifications.js';
import type { Schema } from './schema.js';
import { ServiceError } from '../errors.js';

export type Db = Kysely<Schema>;

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives, without credentials (for logs). */
  readonly description: string;
  /** Runs a multi-statement SQL script outside kysely (migrations). */
  exec(script: string): Promise<void>;
  /** Cheap liveness probe. */
  ping(): Promise<void>;
  /**
   * LISTENs on a notification channel: Postgres from a dedicated connection that reconnects by itself,
   * PGlite in its one session (every writer is in this process).
   */
  listen(channel: string, handlers: NotificationHandlers): Promise<Subscription>;
  close(): Promise<void>;
  /** PGlite only: a snapshot of the whole data directory (tests reuse a migrated template). */
  snapshot?(): Promise<Blob>;
}

export type DatabaseTarget =
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly poolSize?: number;
      /** Longest wait for a new connection, ms (default 5000). */
      readonly connectTimeoutMs?: number;
      /** Longest wait for one query's answer, ms (default 30000): a silent network cannot hang a request. */
      readonly queryTimeoutMs?: number;
    }
  | { readonly kind: 'pglite'; readonly dataDir: string | undefined; readonly loadFrom?: Blob };

const INT8_OID = 20;

/** Driver messages (no SQLSTATE) that mean the connection, not the statement, failed. */
const CONNECTION_FAILURE_MESSAGES = [
  'Connection terminated',
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'is not queryable',
  'Connection terminated due to connection timeout',
];

/** True for failures of the connection to Postgres (SQLSTATE 08xxx, 57P0x, socket errors, driver timeouts). */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof ServiceError) return err.code === 'ERR_DB_UNAVAILABLE';
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && (/^(08|57P0)/.test(e.code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code))) {
    return true;
  }
  return typeof e?.message === 'string' && CONNECTION_FAILURE_MESSAGES.some((m) => (e.message as string).includes(m));
}

function unavailable(cause: unknown): ServiceError {
  return new ServiceError('ERR_DB_UNAVAILABLE', 'The database is not reachable; retry later.', { cause, extra: { retryAfterSeconds: 2 } });
}

interface PgClientLike {
  query(...args: unknown[]): Promise<unknown>;
  release(destroy?: boolean | Error): void;
}

/**
 * The pool kysely sees: connection failures (connect or query) become ServiceError ERR_DB_UNAVAILABLE, and
 * a client that saw one is destroyed rather than returned, so the pool reconnects by itself.
 */
function unavailableMappingPool(pool: pg.Pool): unknown {
  return {
    async connect(): Promise<PgClientLike> {
      let client: PgClientLike;
      try {
        client = (await pool.connect()) as unknown as PgClientLike;
      } catch (err) {
        throw isConnectionFailure(err) ? unavailable(err) : err;
      }
      let broken = false;
      return {
        async query(...args: unknown[]) {
          try {
            return await client.query(...args);
          } catch (err) {
            if (!isConnectionFailure(err)) throw err;
            broken = true;
            throw unavailable(err);
          }
        },
        release: () => client.release(broken || undefined),
      };
    },
    end: () => pool.end(),
  };
}

/** Postgres URL with the password removed, for logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

function makeKysely(pool: unknown): Db {
  return new Kysely<Schema>({
    dialect: new PostgresDialect({ pool: pool as pg.Pool }),
    plugins: [new CamelCasePlugin()],
  });
}

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolSize ?? 10,
      connectionTimeoutMillis: target.connectTimeoutMs ?? 5000,
      query_timeout: target.queryTimeoutMs ?? 30_000,
      keepAlive: true,
      // Names this process in pg_stat_activity: `keyward doctor` counts the replicas by it.
      application_name: `keyward/${hostname().slice(0, 30)}/${process.pid}`,
      // int8 columns (audit sequence numbers, counts) as JS numbers: they stay far below 2^53.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // A client losing its connection must not crash the process, idle (the pool's 'error') or checked out
    // between two statements of a transaction (its own 'error'); the next query reports it.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = makeKysely(unavailableMappingPool(pool));
    return {
      db,
      kind: 'postgres',
      description: redactDatabaseUrl(target.url),
      exec: async (script) => {
        const client = await pool.connect();
        try {
          await client.query(script);
        } catch (err) {
          // A failed script can leave its transaction open: end it before the client goes back.
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
      },
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      listen: async (channel, handlers) => listenPostgres(target.url, channel, handlers),
      close: () => db.destroy(),
    };
  }
  if (target.dataDir) mkdirSync(target.dataDir, { recursive: true, mode: 0o700 });
  const unlock = target.dataDir ? lockDataDir(target.dataDir) : () => undefined;
  let lite: PGlite;
  try {
    lite = new PGlite({
      ...(target.dataDir ? { dataDir: target.dataDir } : {}),
      ...(target.loadFrom ? { loadDataDir: target.loadFrom } : {}),
    });
    await lite.waitReady;
  } catch (cause) {
    unlock();
    throw new ServiceError('ERR_DB_UNAVAILABLE', 'The embedded database could not be opened.', { cause });
  }
  const pool = new PglitePool(lite);
  const db = makeKysely(pool);
  return {
    db,
    kind: 'pglite',
    description: target.dataDir ? `pglite:${target.dataDir}` : 'pglite:memory',
    exec: (script) => pool.exec(script),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    listen: (channel, handlers) => listenPglite(pool, lite, channel, handlers),
    close: async () => {
      try {
        await db.destroy();
      } finally {
        unlock();
      }
    },
    snapshot: async () => {
      const client = await pool.connect();
      try {
        return await lite.dumpDataDir('none');
      } finally {
        client.release();
      }
    },
  };
}

/** LISTEN in PGlite's one session, taken from the pool so it never lands inside another caller's transaction. */
async function listenPglite(pool: PglitePool, lite: PGlite, channel: string, handlers: NotificationHandlers): Promise<Subscription> {
  const client = await pool.connect();
  let unlisten: () => Promise<void>;
  try {
    unlisten = await lite.listen(channel, (payload) => handlers.onNotify(payload));
  } finally {
    client.release();
  }
  handlers.onListening(true);
  return {
    async close() {
      handlers.onListening(false);
      if (lite.closed) return;
      const c = await pool.connect().catch(() => undefined);
      if (!c) return;
      try {
        await unlisten().catch(() => undefined);
      } finally {
        c.release();
      }
    },
  };
}

/** The Postgres error code of a driver error (e.g. 23505 unique_violation), if any. */
function pgErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A write would duplicate a unique value (a name already taken). The store's own error, so nothing
 * above store/ needs to know SQLSTATE codes.
 */
export class DuplicateRowError extends Error {
  constructor(readonly table: string, cause: unknown) {
    super(`a ${table} row with the same unique value exists`, { cause });
    this.name = 'DuplicateRowError';
  }
}

/** Runs one statement of a repository and maps the driver's errors it knows to the store's own. */
export async function mapStoreErrors<T>(table: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (pgErrorCode(err) === '23505') throw new DuplicateRowError(table, err);
    throw err;
  }
}
