// Collateral kept in Postgres (docs/design.md "Evidence and claims"): uploads, KEYWARD_COLLATERAL_DIR at
// start, and (only when enabled) AMD KDS / Intel PCS fetches, all stored once by SHA-256; the bag handed to
// the verifiers, and the uploads an admin trusted as anchors (collateral-trust.ts), served from an
// in-memory snapshot that is reloaded when the
// table's generation changes.
import type { Clock } from '../clock.js';
import { monotonicMs } from '../clock.js';
import { describeCollateral, type DescribedCollateral } from '../collateral/describe.js';
import { recognizeCollateral, type CollateralItem, type CollateralKind } from '../collateral/recognize.js';
import { selectCollateral, type CollateralSelection, type HeldCollateral } from '../collateral/selection.js';
import { fromHex } from '../encoding.js';
import { KeywardError, RequestError } from '../errors.js';
import { LruMemo } from '../evidence/memo.js';
import type { Collateral, CollateralVersion, EvidenceItem, TrustAnchor } from '../evidence/types.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/collateral-repo.js';
import { decodeCursor, encodeCursor, toHeld, toInfo, type CollateralInfo, type CollateralSource } from './collateral-rows.js';
import { appendAudit, type Actor } from './audit.js';
import { missingCollateral, type CollateralFetchers, type CollateralNeed } from './collateral-fetch.js';
import { SYSTEM_ACTOR } from './api-tokens.js';
import { trustOperation, trustedAnchorsOf } from './collateral-trust.js';
import type { Approvals, Performed } from './approvals.js';
import type { RequestContext } from './vault.js';

export type { CollateralInfo, CollateralSource } from './collateral-rows.js';

export interface StoredCollateral extends CollateralInfo {
  /** True when the item was already held (stored once by content). */
  readonly duplicate: boolean;
}

export interface CollateralFile {
  readonly name?: string;
  readonly data: Uint8Array;
}

export interface CollateralListFilter {
  readonly kind?: CollateralKind;
  readonly source?: CollateralSource;
  readonly stale?: boolean;
  readonly limit: number;
  readonly cursor?: string;
}

/** The part of a pino logger the broker writes to. */
export interface CollateralLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CollateralBrokerOptions {
  readonly fetchers?: CollateralFetchers;
  /**
   * How often the generation counter is read to learn of changes made by other replicas (ms, default
   * 1000; 0 = on every call). Changes made through this broker are seen at once.
   */
  readonly refreshIntervalMs?: number;
  /** After a failed fetch, the same gap is reported failed without asking the vendor again for this long (ms, default 10 s). */
  readonly fetchFailureBackoffMs?: number;
  readonly logger?: CollateralLogger;
}

/** At most this many items are stored by one upload. */
export const MAX_UPLOAD_ITEMS = 1000;
/** A gap filled once is not fetched again for this long unless the held collateral changes (ms). */
const REFETCH_AFTER_MS = 60_000;
/** Bound on the per-gap bookkeeping (gaps are keyed by chip id, FMSPC, ...). */
const MAX_TRACKED_GAPS = 10_000;

interface Snapshot {
  readonly generation: number;
  readonly held: readonly HeldCollateral[];
  /** Anchors from the items an admin trusted. */
  readonly trusted: readonly TrustAnchor[];
  selection?: CollateralSelection;
}

/** What verifying evidence takes from the held collateral: the bag, the uploads trusted as anchors, the floors. */
export interface VerificationCollateral {
  readonly collateral: Collateral;
  readonly trusted: readonly TrustAnchor[];
  /** The highest version of each collateral series accepted so far (collateral never rolls back). */
  readonly floors: ReadonlyMap<string, number>;
}

/** Recognizes and describes files; any item that is not usable collateral fails the whole batch. */
function describeFiles(files: readonly CollateralFile[]): { described: DescribedCollateral; name: string | null }[] {
  const out = new Map<string, { described: DescribedCollateral; name: string | null }>();
  for (const [i, file] of files.entries()) {
    const name = file.name ?? `item ${i + 1}`;
    for (const item of recognizeCollateral(file.data, name)) {
      const described = describeCollateral(item, name);
      if (!out.has(described.sha256)) out.set(described.sha256, { described, name: file.name ?? null });
      if (out.size > MAX_UPLOAD_ITEMS) throw new RequestError('ERR_REQUEST_INVALID', `At most ${MAX_UPLOAD_ITEMS} collateral items are accepted at once.`);
    }
  }
  return [...out.values()];
}

export class CollateralBroker {
  private snapshot: Snapshot | undefined;
  private checkedAt = -Infinity;
  /** Writes through this broker, and how many of them the snapshot has seen. */
  private localChanges = 0;
  private snapshotChanges = 0;
  private refreshing: { promise: Promise<Snapshot>; changes: number } | undefined;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, { until: number; error: unknown }>();
  /** Gaps fetched at a generation: not fetched again before `until` unless the generation changes. */
  private readonly attempted = new Map<string, { generation: number; until: number }>();
  private readonly memo = new LruMemo(2_000);
  /** Collateral floors as last read (every refresh) or raised here. */
  private floors = new Map<string, number>();
  /** Where trusting an item waits for the platform quorum (registerOperations). */
  private approvalsRef: Approvals | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly opts: CollateralBrokerOptions = {},
  ) {}

  /** True when some vendor fetch is configured. */
  get fetching(): boolean {
    return Boolean(this.opts.fetchers?.kds || this.opts.fetchers?.pcs);
  }

  /** Stores every collateral item in one uploaded file (audit `collateral.upload`). */
  async upload(ctx: RequestContext, bytes: Uint8Array, name?: string): Promise<StoredCollateral[]> {
    return this.uploadFiles(ctx, [{ data: bytes, ...(name === undefined ? {} : { name }) }]);
  }

  /** Stores the items of several files at once, all or nothing. */
  async uploadFiles(ctx: RequestContext, files: readonly CollateralFile[]): Promise<StoredCollateral[]> {
    return this.store(describeFiles(files), 'upload', ctx.actor, ctx.requestId, 'collateral.upload');
  }

  /**
   * Loads KEYWARD_COLLATERAL_DIR's files (source 'dir'). Files that are not collateral at all are skipped
   * and named; a file that is collateral but broken fails the load (ERR_COLLATERAL_MALFORMED).
   */
  async loadFiles(files: readonly CollateralFile[]): Promise<{ stored: StoredCollateral[]; skipped: string[] }> {
    const usable: CollateralFile[] = [];
    const skipped: string[] = [];
    for (const file of files) {
      try {
        recognizeCollateral(file.data, file.name);
        usable.push(file);
      } catch (err) {
        if (!(err instanceof KeywardError && err.code === 'ERR_COLLATERAL_UNRECOGNIZED')) throw err;
        skipped.push(file.name ?? '(unnamed)');
      }
    }
    const stored = usable.length === 0 ? [] : await this.store(describeFiles(usable), 'dir', SYSTEM_ACTOR, null, 'collateral.load');
    return { stored, skipped };
  }

  async list(filter: CollateralListFilter): Promise<{ items: CollateralInfo[]; nextCursor: string | null }> {
    const now = this.clock.now();
    const rows = await repo.listCollateral(this.db, {
      now,
      limit: filter.limit + 1,
      ...(filter.kind ? { kind: filter.kind } : {}),
      ...(filter.source ? { source: filter.source } : {}),
      ...(filter.stale === undefined ? {} : { stale: filter.stale }),
      ...(filter.cursor ? { after: decodeCursor(filter.cursor) } : {}),
    });
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return { items: page.map((r) => toInfo(r, now)), nextCursor: rows.length > filter.limit && last ? encodeCursor(last) : null };
  }

  /** Deletes one item (audit `collateral.delete`); unknown ids are ERR_COLLATERAL_NOT_FOUND. */
  async remove(ctx: RequestContext, id: string): Promise<CollateralInfo> {
    const sha256 = /^[0-9a-f]{64}$/.test(id) ? fromHex(id) : undefined;
    const at = this.clock.now();
    const row = await this.db.transaction().execute(async (trx) => {
      const deleted = sha256 ? await repo.deleteCollateral(trx, sha256) : undefined;
      if (!deleted) throw new RequestError('ERR_COLLATERAL_NOT_FOUND', 'No collateral with this id is held.');
      await appendAudit(trx, { actor: ctx.actor, action: 'collateral.delete', target: id, outcome: 'success', requestId: ctx.requestId, details: { kind: deleted.kind, label: deleted.label } }, at);
      return deleted;
    });
    this.localChanges++;
    return toInfo(row, at);
  }

  /**
   * Trusts one uploaded JWK set or certificate as an anchor (platform admins only; audit `collateral.trust`):
   * a platform change, pending until the platform quorum approved it when KEYWARD_PLATFORM_QUORUM > 1.
   */
  async trust(ctx: RequestContext, id: string): Promise<Performed<CollateralInfo>> {
    const out = await this.approvals.perform<{ id: string }, CollateralInfo>(ctx, 'collateral.trust', { id });
    this.localChanges++;
    return out;
  }

  /** Registers the trust operation with the approvals (an approved trust is applied there). */
  registerOperations(approvals: Approvals): void {
    this.approvalsRef = approvals;
    approvals.register(trustOperation(this.clock, (row, at) => {
      this.localChanges++;
      return toInfo(row, at);
    }));
  }

  private get approvals(): Approvals {
    if (!this.approvalsRef) throw new KeywardError('ERR_INTERNAL', 'Collateral trust needs the approvals (registerOperations).');
    return this.approvalsRef;
  }

  /** The collateral for `items` at `now` (see collateralFor) and the anchors of the items an admin trusted. */
  async verificationInputs(items: readonly EvidenceItem[], now: Date): Promise<VerificationCollateral> {
    const collateral = await this.collateralFor(items, now);
    return { collateral, trusted: (await this.current()).trusted, floors: this.floors };
  }

  /** Raises the floors to the versions an accepted attestation relied on (never lowers one). */
  async raiseFloors(versions: readonly CollateralVersion[]): Promise<void> {
    if (versions.every((v) => (this.floors.get(v.series) ?? -1) >= v.number)) return;
    await repo.raiseCollateralFloors(this.db, versions, this.clock.now());
    const next = new Map(this.floors);
    for (const v of versions) next.set(v.series, Math.max(v.number, next.get(v.series) ?? -1));
    this.floors = next;
  }

  /**
   * The collateral to verify `items` with at `now`: every held item valid at `now` (for a series with
   * nothing valid, its newest expired item, which the verifier refuses as stale), after fetching what the
   * evidence lacks when a fetcher is configured. Fetch failures are ERR_COLLATERAL_UNAVAILABLE (503).
   */
  async collateralFor(items: readonly EvidenceItem[], now: Date): Promise<Collateral> {
    let snapshot = await this.current();
    const fetchers = this.opts.fetchers;
    if (!fetchers || !this.fetching) return this.selectionOf(snapshot, now).collateral;
    const needs = missingCollateral(items, this.selectionOf(snapshot, now), fetchers, this.memo).filter((need) => {
      const last = this.attempted.get(need.key);
      return !last || last.generation !== snapshot.generation || monotonicMs() >= last.until;
    });
    if (needs.length === 0) return this.selectionOf(snapshot, now).collateral;
    const results = await Promise.allSettled(needs.map((need) => this.fill(need)));
    snapshot = await this.current();
    if (this.attempted.size > MAX_TRACKED_GAPS) this.attempted.clear();
    // A gap that stays open after a successful fetch (the vendor has nothing newer) is not asked for again at once.
    needs.forEach((need, i) => {
      if (results[i]?.status === 'fulfilled') this.attempted.set(need.key, { generation: snapshot.generation, until: monotonicMs() + REFETCH_AFTER_MS });
    });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return this.selectionOf(snapshot, now).collateral;
  }

  private selectionOf(snapshot: Snapshot, now: Date): CollateralSelection {
    const t = now.getTime();
    const cached = snapshot.selection;
    if (cached && t >= cached.from && t < cached.until) return cached;
    snapshot.selection = selectCollateral(snapshot.held, now);
    return snapshot.selection;
  }

  /** The snapshot, reloaded when the generation changed (checked at most every refreshIntervalMs). */
  private async current(): Promise<Snapshot> {
    const interval = this.opts.refreshIntervalMs ?? 1000;
    const wanted = this.localChanges;
    if (this.snapshot && this.snapshotChanges === wanted && monotonicMs() - this.checkedAt < interval) return this.snapshot;
    // A reload that began before this broker's latest write may miss it: wait for it and reload again.
    for (;;) {
      const inflight = this.refreshing;
      if (!inflight) break;
      if (inflight.changes >= wanted) return inflight.promise;
      await inflight.promise.catch(() => undefined);
    }
    const promise = this.reload(wanted).finally(() => {
      if (this.refreshing?.changes === wanted) this.refreshing = undefined;
    });
    this.refreshing = { promise, changes: wanted };
    return promise;
  }

  private async reload(changes: number): Promise<Snapshot> {
    const generation = await repo.readCollateralGeneration(this.db);
    // Floors change with attestations, not with the items: read them at every refresh (other replicas raise them too).
    const floors = await repo.readCollateralFloors(this.db);
    for (const [series, number] of this.floors) floors.set(series, Math.max(number, floors.get(series) ?? -1));
    this.floors = floors;
    this.checkedAt = monotonicMs();
    if (!this.snapshot || this.snapshot.generation !== generation) {
      // Rows committed after the generation was read only make the next check reload again.
      const rows = await repo.loadAllCollateral(this.db);
      const trusted = trustedAnchorsOf(rows, (err) => this.opts.logger?.warn({ err }, 'trusted collateral holds no usable key; left out'));
      this.snapshot = { generation, held: rows.map(toHeld), trusted };
      if (rows.length > 0) this.opts.logger?.info({ generation, items: rows.length }, 'collateral snapshot loaded');
    }
    this.snapshotChanges = Math.max(this.snapshotChanges, changes);
    return this.snapshot;
  }

  /** Fetches one gap (single flight per gap in this process) and stores what came back. */
  private fill(need: CollateralNeed): Promise<void> {
    const failure = this.failures.get(need.key);
    if (failure && monotonicMs() < failure.until) return Promise.reject(failure.error);
    let pending = this.inflight.get(need.key);
    if (!pending) {
      pending = this.fetchAndStore(need).finally(() => this.inflight.delete(need.key));
      this.inflight.set(need.key, pending);
    }
    return pending;
  }

  private async fetchAndStore(need: CollateralNeed): Promise<void> {
    let items: CollateralItem[];
    try {
      items = await need.fetch();
    } catch (error) {
      if (this.failures.size > MAX_TRACKED_GAPS) this.failures.clear();
      this.failures.set(need.key, { until: monotonicMs() + (this.opts.fetchFailureBackoffMs ?? 10_000), error });
      this.opts.logger?.warn({ need: need.key, code: error instanceof KeywardError ? error.code : undefined }, 'collateral fetch failed');
      throw error;
    }
    this.failures.delete(need.key);
    const described: { described: DescribedCollateral; name: null }[] = [];
    for (const item of items) {
      try {
        described.push({ described: describeCollateral(item, need.key), name: null });
      } catch (err) {
        this.opts.logger?.warn({ need: need.key, code: err instanceof KeywardError ? err.code : undefined }, 'fetched collateral is unusable; left out');
      }
    }
    const held = new Set(this.snapshot?.held.map((h) => h.sha256));
    const fresh = described.filter((d) => !held.has(d.described.sha256));
    if (fresh.length > 0) await this.store(fresh, need.source, SYSTEM_ACTOR, null, 'collateral.fetch');
  }

  private async store(
    entries: readonly { described: DescribedCollateral; name: string | null }[],
    source: CollateralSource,
    actor: Actor,
    requestId: string | null,
    action: string,
  ): Promise<StoredCollateral[]> {
    const at = this.clock.now();
    const unique = [...new Map(entries.map((e) => [e.described.sha256, e])).values()];
    const stored = await this.db.transaction().execute(async (trx) => {
      const results = await repo.insertCollateral(
        trx,
        unique.map(({ described: d, name }) => ({
          sha256: fromHex(d.sha256) as Uint8Array,
          kind: d.kind,
          label: d.label,
          series: d.series,
          details: d.details,
          data: d.data,
          validFrom: d.validFrom,
          validUntil: d.validUntil,
          source,
          name: name === null ? null : name.slice(0, 256),
          uploadedBy: actor.id,
          createdAt: at,
        })),
      );
      const out = results.map(({ row, inserted }) => ({ ...toInfo(row, at), duplicate: !inserted }));
      const added = out.filter((i) => !i.duplicate).length;
      // An upload is a request and always audited; a directory load or fetch only when it added something.
      if (source !== 'upload' && added === 0) return out;
      const summary = out.slice(0, 100).map((i) => ({ id: i.id, kind: i.kind, duplicate: i.duplicate }));
      await appendAudit(
        trx,
        { actor, action, target: out.length === 1 ? (out[0] as StoredCollateral).id : null, outcome: 'success', requestId, details: { source, count: out.length, added, items: summary } },
        at,
      );
      return out;
    });
    this.localChanges++;
    return stored;
  }
}
