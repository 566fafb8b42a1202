// Readiness: the database answers, its migrations are current, and the active KEK seals and opens.
import { randomBytes } from 'node:crypto';
import type { Database } from '../store/database.js';
import { pendingMigrations } from '../store/migrate.js';
import type { KekRing } from '../keys/kek.js';
import { constantTimeEqual } from '../encoding.js';

export interface ReadinessCheck {
  readonly name: 'database' | 'migrations' | 'kek';
  readonly ok: boolean;
  readonly detail?: string;
}

export class Health {
  constructor(
    private readonly database: Database,
    private readonly keks: KekRing,
  ) {}

  async readiness(): Promise<{ ready: boolean; checks: ReadinessCheck[] }> {
    const checks: ReadinessCheck[] = [];
    let dbOk = false;
    try {
      await this.database.ping();
      dbOk = true;
      checks.push({ name: 'database', ok: true });
    } catch {
      checks.push({ name: 'database', ok: false, detail: 'not reachable' });
    }
    if (dbOk) {
      try {
        const pending = await pendingMigrations(this.database);
        checks.push(pending.length === 0 ? { name: 'migrations', ok: true } : { name: 'migrations', ok: false, detail: `pending: ${pending.join(', ')}` });
      } catch {
        checks.push({ name: 'migrations', ok: false, detail: 'could not be read' });
      }
    } else {
      checks.push({ name: 'migrations', ok: false, detail: 'database not reachable' });
    }
    try {
      const probe = new Uint8Array(randomBytes(16));
      const aad = Buffer.from('keyward:v1:readiness-probe');
      const opened = await this.keks.active.open(await this.keks.active.seal(probe, aad), aad);
      checks.push(constantTimeEqual(opened, probe) ? { name: 'kek', ok: true } : { name: 'kek', ok: false, detail: 'round trip mismatch' });
    } catch {
      checks.push({ name: 'kek', ok: false, detail: 'seal/open failed' });
    }
    return { ready: checks.every((c) => c.ok), checks };
  }
}
