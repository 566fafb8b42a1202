// A one-connection "pool" over PGlite (Postgres in WASM) that kysely's own PostgresDialect can drive.
// PGlite is a single session, so callers queue for it; a transaction holds it from BEGIN to COMMIT.
import { PGlite } from '@electric-sql/pglite';

interface QueryResultLike {
  command: string;
  rowCount: number;
  rows: unknown[];
}

export interface PgliteClient {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResultLike>;
  release(): void;
}

/** The first SQL keyword, upper-cased: what `pg` reports as `command`. */
function commandOf(sql: string): string {
  const match = /^\s*(?:--[^\n]*\n\s*)*([A-Za-z]+)/.exec(sql);
  return (match?.[1] ?? '').toUpperCase();
}

export class PglitePool {
  private busy = false;
  private readonly waiters: (() => void)[] = [];
  private ended = false;

  constructor(readonly db: PGlite) {}

  async connect(): Promise<PgliteClient> {
    if (this.ended) throw new Error('the embedded database is closed');
    if (this.busy) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.busy = true;
    let released = false;
    return {
      query: async (sql, params) => {
        const result = await this.db.query(sql, params ? [...params] : []);
        return { command: commandOf(sql), rowCount: result.affectedRows ?? 0, rows: result.rows };
      },
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters.shift();
        if (next) next();
        else this.busy = false;
      },
    };
  }

  /** Runs a multi-statement script (migrations) while holding the connection. */
  async exec(sql: string): Promise<void> {
    const client = await this.connect();
    try {
      await this.db.exec(sql);
    } catch (err) {
      await this.db.exec('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.db.close();
  }
}
