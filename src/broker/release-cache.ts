// The per-replica cache of the rows a release reads per key (docs/performance.md "Per-replica cache of key
// rows"): the key (state, hold, binding and its row MAC, current version, tenant), whether its policy is
// live, and the version row with its sealed (still envelope-encrypted) material. Never plaintext material.
//
// Why it cannot release a stale key: every entry remembers the epoch (migration 0017) it was read at, and a
// release commits only if its transaction reads the same epoch (release-one-shot.ts, release.ts); any change
// to keys, key_versions or a policy's deletion bumps the epoch in the transaction that makes it. LISTEN/NOTIFY
// only makes the cache forget sooner; while it is not listening the cache is not used at all.
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Database, Db } from '../store/database.js';
import type { Subscription } from '../store/notifications.js';
import * as keysRepo from '../store/keys-repo.js';

/** The channel migration 0017's triggers notify, with a key id or '*' (every key). */
export const RELEASE_CACHE_CHANNEL = 'keyward_release_cache';

export interface ReleaseCacheSettings {
  /** KEYWARD_RELEASE_CACHE=off: every release reads the database. */
  readonly enabled: boolean;
  /** Keys held at most (least recently used dropped first). */
  readonly maxKeys: number;
  /** An entry older than this is read again, whatever the notifications said, ms. */
  readonly maxAgeMs: number;
}

export const RELEASE_CACHE_DEFAULTS: Omit<ReleaseCacheSettings, 'enabled'> = { maxKeys: 10_000, maxAgeMs: 30_000 };

/** Versions of one key held at most (the current one and a few asked for by number). */
const MAX_VERSIONS_PER_KEY = 8;

interface Entry {
  readonly found: keysRepo.KeyForRelease;
  readonly readAtMs: number;
}

type Result = 'hit' | 'miss' | 'stale';

interface Logger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export class ReleaseCache {
  /** key id → (version asked for, or 'current') → entry; Map order is the LRU order of key ids. */
  private readonly keys = new Map<string, Map<string, Entry>>();
  /**
   * Bumped by every invalidation. A database read that started before an invalidation of its key (or of
   * every key) is not stored: it may hold the rows from before the change.
   */
  private generation = 0;
  private clearedAt = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private listening = false;
  private subscription: Subscription | undefined;
  private readonly counts = { hit: 0, miss: 0, stale: 0 };
  private counter: Counter<'result'> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly settings: ReleaseCacheSettings,
  ) {}

  /** Starts listening for invalidations; until LISTEN took effect (and whenever it lapses) nothing is cached. */
  async start(database: Database, log: Logger): Promise<void> {
    if (!this.settings.enabled) return;
    this.subscription = await database.listen(RELEASE_CACHE_CHANNEL, {
      onNotify: (payload) => this.invalidate(payload),
      onListening: (on) => {
        // Notifications sent while not listening were missed: start empty either way.
        this.clear();
        if (on !== this.listening) log.info({ listening: on }, on ? 'release cache listening for invalidations' : 'release cache not listening: releases read the database');
        this.listening = on;
      },
      onError: (err) => log.warn({ err }, 'release cache notification connection failed; reconnecting'),
    });
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
    this.listening = false;
    this.clear();
  }

  registerMetrics(registry: Registry): void {
    this.counter = new Counter({
      name: 'keyward_release_cache_total',
      help: 'Key lookups of releases by result: hit (cached rows), miss (read from the database), stale (rolled back and judged again).',
      labelNames: ['result'],
      registers: [registry],
    });
  }

  /** Lookups by result since start (also the metric keyward_release_cache_total). */
  stats(): Readonly<Record<Result, number>> {
    return { ...this.counts };
  }

  /** A pass of judging: reads through the cache (`fresh`: straight from the database, storing what it read). */
  reads(db: Db, fresh = false): ReleaseReads {
    return new ReleaseReads(this, db, fresh || !this.usable());
  }

  /** A release judged on cached rows was found stale at commit: forget everything. */
  staleAt(): void {
    this.count('stale');
    this.clear();
  }

  /** Forgets one key's entries ('*' or an empty payload: every key). */
  invalidate(keyId: string): void {
    if (keyId === '*' || keyId === '') return this.clear();
    this.generation++;
    this.keys.delete(keyId);
    this.invalidatedAt.set(keyId, this.generation);
    // Bounded: forgetting which keys were invalidated is safe if it counts as every key invalidated.
    if (this.invalidatedAt.size > this.settings.maxKeys) this.clear();
  }

  private clear(): void {
    this.generation++;
    this.clearedAt = this.generation;
    this.invalidatedAt.clear();
    this.keys.clear();
  }

  private usable(): boolean {
    return this.settings.enabled && this.listening;
  }

  /** @internal for ReleaseReads: the cached entry, if usable and young enough. */
  lookup(keyId: string, slot: string): keysRepo.KeyForRelease | undefined {
    if (!this.usable()) return undefined;
    const versions = this.keys.get(keyId);
    const entry = versions?.get(slot);
    if (!versions || !entry) return undefined;
    if (this.clock.now().getTime() - entry.readAtMs > this.settings.maxAgeMs) {
      versions.delete(slot);
      return undefined;
    }
    // Most recently used last.
    this.keys.delete(keyId);
    this.keys.set(keyId, versions);
    return entry.found;
  }

  /** @internal for ReleaseReads: stores a database read unless an invalidation came in since it started. */
  store(keyId: string, slot: string, found: keysRepo.KeyForRelease, startedAt: number): void {
    if (!this.usable() || this.clearedAt > startedAt || (this.invalidatedAt.get(keyId) ?? 0) > startedAt) return;
    let versions = this.keys.get(keyId);
    if (versions) this.keys.delete(keyId);
    else versions = new Map();
    if (versions.size >= MAX_VERSIONS_PER_KEY && !versions.has(slot)) versions.delete(versions.keys().next().value as string);
    versions.set(slot, { found, readAtMs: this.clock.now().getTime() });
    this.keys.set(keyId, versions);
    while (this.keys.size > this.settings.maxKeys) this.keys.delete(this.keys.keys().next().value as string);
  }

  /** @internal for ReleaseReads. */
  currentGeneration(): number {
    return this.generation;
  }

  /** @internal for ReleaseReads. */
  count(result: Result): void {
    this.counts[result]++;
    this.counter?.inc({ result });
  }
}

/** A judging pass's reads: through `cache` when there is one (`fresh`: straight from the database). */
export function releaseReads(cache: ReleaseCache | undefined, db: Db, fresh = false): ReleaseReads {
  return cache ? cache.reads(db, fresh) : ReleaseReads.direct(db);
}

/**
 * The key rows one judging pass of a release read, and the epochs of those that came from the cache: the
 * release's transaction commits only if the epoch it reads equals every one of them.
 */
export class ReleaseReads {
  private readonly cachedEpochs = new Set<string>();

  constructor(
    private readonly cache: ReleaseCache | undefined,
    private readonly db: Db,
    /** Straight from the database (the cache off, not listening, or a release judged again). */
    readonly fresh: boolean,
  ) {}

  /** A pass with no cache at all (KEYWARD_RELEASE_CACHE=off, or a caller without one). */
  static direct(db: Db): ReleaseReads {
    return new ReleaseReads(undefined, db, true);
  }

  /** The key as a release finds it (see keysRepo.findKeyForRelease), from the cache when it may be. */
  async find(keyId: string, version: number | undefined): Promise<keysRepo.KeyForRelease | undefined> {
    const cache = this.cache;
    const slot = version === undefined ? 'current' : String(version);
    if (cache && !this.fresh) {
      const cached = cache.lookup(keyId, slot);
      if (cached) {
        cache.count('hit');
        this.cachedEpochs.add(cached.epoch);
        return cached;
      }
    }
    const startedAt = cache?.currentGeneration() ?? 0;
    const found = await keysRepo.findKeyForRelease(this.db, keyId, version);
    if (cache) {
      cache.count('miss');
      // Only keys that exist are kept: an unknown id is always asked again.
      if (found) cache.store(keyId, slot, found, startedAt);
    }
    return found;
  }

  /**
   * The epoch the release's transaction must read for this pass to commit: undefined when nothing came from
   * the cache (rows read in this request are as current as the uncached release ever was).
   */
  requiredEpoch(): string | undefined {
    if (this.cachedEpochs.size === 0) return undefined;
    // Cached rows read at different epochs cannot all be current at one: never equal to a real epoch.
    return this.cachedEpochs.size === 1 ? [...this.cachedEpochs][0] : 'mixed';
  }

  /** Whether rows read from the cache are current at `epoch`, the one the release's transaction read. */
  currentAt(epoch: string): boolean {
    const required = this.requiredEpoch();
    return required === undefined || required === epoch;
  }
}
