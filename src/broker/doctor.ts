// `keyward doctor` (docs/operations.md "keyward doctor"): read-only checks of what a running keyward needs —
// database, migrations, KEKs, collateral, trust anchors, clocks, replicas — each failure with a concrete fix.
import type { Clock } from '../clock.js';
import type { Database } from '../store/database.js';
import { pendingMigrations } from '../store/migrate.js';
import * as ops from '../store/ops-repo.js';
import { openMaterial } from '../keys/envelope.js';
import type { Kek } from '../keys/kek.js';
import { zeroize } from '../encoding.js';
import type { TrustAnchors } from '../evidence/types.js';
import { kekStatus } from './kek-admin.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  readonly name: 'database' | 'migrations' | 'kek' | 'collateral' | 'anchors' | 'clock' | 'replicas';
  readonly status: CheckStatus;
  readonly detail: string;
  /** What to do about a warn or fail. */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly checks: readonly DoctorCheck[];
}

export interface DoctorDeps {
  /** Where the configuration points (for the messages): KEYWARD_DATABASE_URL, KEYWARD_DATA_DIR, KEYWARD_EXTRA_ANCHORS. */
  readonly config: { readonly databaseUrl: string | undefined; readonly dataDir: string; readonly extraAnchorsDir: string | undefined };
  readonly clock: Clock;
  openDatabase(): Promise<Database>;
  /** Opens a KEK by its URI as keyward would (the configured KEK, or one the keks table names). */
  openKek(uri: string | undefined): Promise<Kek>;
  loadAnchors(): TrustAnchors;
}

/** Largest clock difference between a replica and the database that docs/operations.md allows. */
export const MAX_CLOCK_SKEW_MS = 1000;
/** Collateral expiring within this is reported (warn) so it can be refreshed in time. */
const COLLATERAL_NOTICE_MS = 7 * 24 * 3600_000;

function message(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { message?: unknown } };
  const cause = typeof e?.cause?.message === 'string' ? `: ${e.cause.message}` : '';
  return `${typeof e?.code === 'string' ? `${e.code} ` : ''}${String(e?.message ?? err)}${cause}`;
}

async function checkKeks(db: Database, deps: DoctorDeps): Promise<DoctorCheck> {
  let configured: Kek;
  try {
    configured = await deps.openKek(undefined);
  } catch (err) {
    return {
      name: 'kek',
      status: 'fail',
      detail: `the configured KEK (KEYWARD_KEK) does not open: ${message(err)}`,
      fix: 'Restore the KEK file from its backup to the path KEYWARD_KEK names (or fix the PKCS#11 module, token, label and PIN variable); without it no key opens.',
    };
  }
  try {
    const rows = await kekStatus(db.db);
    const active = rows.find((r) => r.state === 'active');
    const samples = await ops.oneSealedVersionPerKek(db.db);
    const failures: string[] = [];
    for (const s of samples) {
      const row = rows.find((r) => r.id === s.kekId);
      let kek: Kek | undefined;
      try {
        kek = row && row.uri === configured.uri ? configured : await deps.openKek(row?.uri);
        zeroize(await openMaterial(kek, s.keyId, s.version, s.sealed));
      } catch (err) {
        failures.push(`${s.kekId} (${row?.uri ?? 'unknown'}): ${message(err)}`);
      } finally {
        if (kek && kek !== configured) await kek.close?.();
      }
    }
    if (failures.length > 0) {
      return {
        name: 'kek',
        status: 'fail',
        detail: `key versions sealed under ${failures.join('; ')} do not open`,
        fix: 'Restore those KEK files (or HSM keys) from backup at the URIs shown, or finish a KEK rotation with `keyward kek rotate` while they still open.',
      };
    }
    if (active && active.uri !== configured.uri) {
      return {
        name: 'kek',
        status: 'warn',
        detail: `the database's active KEK is ${active.uri}, KEYWARD_KEK is ${configured.uri}`,
        fix: 'Set KEYWARD_KEK to the active KEK (after a rotation the new one is active), so every replica seals under the same KEK.',
      };
    }
    return { name: 'kek', status: 'ok', detail: `${rows.length} KEK(s), active ${active?.id ?? 'none yet'}; one version under each opened (${samples.length} checked)` };
  } finally {
    await configured.close?.();
  }
}

async function checkCollateral(db: Database, now: Date): Promise<DoctorCheck> {
  const { stale, total, next } = await ops.collateralExpiry(db.db, now);
  const nextText = next ? `; next to expire: ${next.kind} ${next.label} at ${next.validUntil.toISOString()}` : '';
  if (stale > 0) {
    return {
      name: 'collateral',
      status: 'warn',
      detail: `${stale} of ${total} collateral items are past their validity${nextText}`,
      fix: 'Upload fresh collateral (POST /v1/collateral or KEYWARD_COLLATERAL_DIR and a restart), or enable fetching (KEYWARD_COLLATERAL_FETCH=on, KEYWARD_PCCS_URL); stale CRLs and TCB Info make releases fail with 503.',
    };
  }
  if (next && next.validUntil.getTime() - now.getTime() < COLLATERAL_NOTICE_MS) {
    return { name: 'collateral', status: 'warn', detail: `${total} items, all valid${nextText}`, fix: `Refresh the ${next.kind} ${next.label} before ${next.validUntil.toISOString()}.` };
  }
  return { name: 'collateral', status: 'ok', detail: `${total} items, all valid${nextText}` };
}

function checkAnchors(deps: DoctorDeps): DoctorCheck {
  let anchors: TrustAnchors;
  try {
    anchors = deps.loadAnchors();
  } catch (err) {
    return { name: 'anchors', status: 'fail', detail: message(err), fix: 'Point KEYWARD_EXTRA_ANCHORS at a directory of PEM roots, or unset it.' };
  }
  const extra = anchors.all.filter((a) => a.source === 'extra');
  const vendor = anchors.all.length - extra.length;
  if (extra.length > 0) {
    return {
      name: 'anchors',
      status: 'warn',
      detail: `${vendor} pinned vendor roots and ${extra.length} EXTRA roots (${extra.map((a) => a.name).join(', ')}) from ${deps.config.extraAnchorsDir}`,
      fix: 'Unset KEYWARD_EXTRA_ANCHORS in production: evidence chaining to those roots (the simulator, private PKIs) is accepted.',
    };
  }
  return { name: 'anchors', status: 'ok', detail: `${vendor} pinned vendor roots, no extra roots` };
}

async function checkClock(db: Database, clock: Clock): Promise<DoctorCheck> {
  const before = clock.now().getTime();
  const dbNow = (await ops.databaseNow(db.db)).getTime();
  const after = clock.now().getTime();
  const skew = Math.round((before + after) / 2 - dbNow);
  const detail = `this host is ${Math.abs(skew)} ms ${skew >= 0 ? 'ahead of' : 'behind'} the database (round trip ${after - before} ms)`;
  if (Math.abs(skew) > MAX_CLOCK_SKEW_MS + (after - before)) {
    return { name: 'clock', status: 'fail', detail, fix: `Synchronise this host and the database host with NTP (chrony, systemd-timesyncd); replicas must agree within ${MAX_CLOCK_SKEW_MS} ms.` };
  }
  return { name: 'clock', status: 'ok', detail };
}

async function checkReplicas(db: Database): Promise<DoctorCheck> {
  if (db.kind === 'pglite') return { name: 'replicas', status: 'ok', detail: 'embedded PGlite: one process at a time (keyward serve is not running on this data dir)' };
  const seen = (await ops.keywardConnections(db.db)).filter((r) => !r.name.endsWith(`/${process.pid}`));
  if (seen.length === 0) return { name: 'replicas', status: 'warn', detail: 'no keyward process is connected to this database', fix: 'Start `keyward serve` (or check that the replicas use this KEYWARD_DATABASE_URL).' };
  return { name: 'replicas', status: 'ok', detail: `${seen.length} keyward process(es) connected: ${seen.map((r) => `${r.name.slice('keyward/'.length)} (${r.connections} conn)`).join(', ')}` };
}

/** Runs every check; later checks that need the database are skipped (fail) when it is unreachable. */
export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  let db: Database | undefined;
  try {
    db = await deps.openDatabase();
    await db.ping();
    checks.push({ name: 'database', status: 'ok', detail: `${db.description} (${db.kind}) answers` });
  } catch (err) {
    await db?.close().catch(() => undefined);
    db = undefined;
    const pglite = !deps.config.databaseUrl;
    checks.push({
      name: 'database',
      status: 'fail',
      detail: `cannot reach ${pglite ? `the PGlite database in ${deps.config.dataDir}` : 'KEYWARD_DATABASE_URL'}: ${message(err)}`,
      fix: pglite
        ? 'PGlite allows one process: stop `keyward serve` on this KEYWARD_DATA_DIR to run doctor, or check the directory is readable.'
        : 'Start Postgres or fix KEYWARD_DATABASE_URL (host, port, user, database; `pg_isready -d "$KEYWARD_DATABASE_URL"`).',
    });
  }
  try {
    if (db) {
      const pending = await pendingMigrations(db);
      checks.push(
        pending.length === 0
          ? { name: 'migrations', status: 'ok', detail: 'schema is current' }
          : { name: 'migrations', status: 'fail', detail: `pending: ${pending.join(', ')}`, fix: 'Run `keyward migrate` (or start `keyward serve`, which migrates first).' },
      );
      if (pending.length === 0) {
        checks.push(await checkKeks(db, deps));
        checks.push(await checkCollateral(db, deps.clock.now()));
      }
    }
    checks.push(checkAnchors(deps));
    if (db) {
      checks.push(await checkClock(db, deps.clock));
      checks.push(await checkReplicas(db));
    }
  } finally {
    await db?.close();
  }
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}
