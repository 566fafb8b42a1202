// The release cache's own rules (src/broker/release-cache.ts): used only while listening, emptied when the
// listener lapses, bounded in keys and age, a key's entries dropped by its notification, a read under way
// during an invalidation of its key not stored, and the epoch a pass must find at commit.
import { describe, expect, it } from 'vitest';
import { ReleaseCache, ReleaseReads } from '../../../src/broker/release-cache.js';
import type { Clock } from '../../../src/clock.js';
import type { Database } from '../../../src/store/database.js';
import type { NotificationHandlers } from '../../../src/store/notifications.js';
import type { KeyForRelease } from '../../../src/store/keys-repo.js';

class TestClock implements Clock {
  ms = Date.parse('2026-01-01T00:00:00Z');
  now(): Date {
    return new Date(this.ms);
  }
}

/** A database whose only working part is LISTEN: the test plays the notification connection. */
function listeningDatabase(): { database: Database; feed: () => NotificationHandlers } {
  let handlers: NotificationHandlers | undefined;
  const database = {
    listen: async (_channel: string, h: NotificationHandlers) => {
      handlers = h;
      return { close: async () => h.onListening(false) };
    },
  } as unknown as Database;
  return { database, feed: () => handlers as NotificationHandlers };
}

const silent = { warn: () => undefined, info: () => undefined };

function row(id: string, epoch: string): KeyForRelease {
  return { key: { id } as KeyForRelease['key'], policyVersion: 1, version: undefined, epoch };
}

async function started(settings: Partial<{ maxKeys: number; maxAgeMs: number }> = {}) {
  const clock = new TestClock();
  const cache = new ReleaseCache(clock, { enabled: true, maxKeys: 10, maxAgeMs: 30_000, ...settings });
  const { database, feed } = listeningDatabase();
  await cache.start(database, silent);
  feed().onListening(true);
  return { cache, clock, feed };
}

describe('ReleaseCache', () => {
  it('holds nothing until it listens, and forgets everything when listening lapses', async () => {
    const { cache, feed } = await started();
    feed().onListening(false);
    cache.store('k1', 'current', row('k1', '1'), cache.currentGeneration());
    expect(cache.lookup('k1', 'current')).toBeUndefined();
    feed().onListening(true);
    cache.store('k1', 'current', row('k1', '1'), cache.currentGeneration());
    expect(cache.lookup('k1', 'current')?.epoch).toBe('1');
    feed().onListening(false);
    feed().onListening(true);
    expect(cache.lookup('k1', 'current')).toBeUndefined();
  });

  it('drops a notified key, every key on *, and does not store a read its invalidation overtook', async () => {
    const { cache, feed } = await started();
    for (const id of ['k1', 'k2', 'k3']) cache.store(id, 'current', row(id, '1'), cache.currentGeneration());
    feed().onNotify('k1');
    expect(cache.lookup('k1', 'current')).toBeUndefined();
    expect(cache.lookup('k2', 'current')).toBeDefined();
    feed().onNotify('*');
    expect(cache.lookup('k2', 'current')).toBeUndefined();
    expect(cache.lookup('k3', 'current')).toBeUndefined();

    const startedAt = cache.currentGeneration();
    feed().onNotify('k4');
    cache.store('k4', 'current', row('k4', '1'), startedAt);
    cache.store('k5', 'current', row('k5', '1'), startedAt);
    expect(cache.lookup('k4', 'current')).toBeUndefined();
    // Another key's invalidation does not concern this read.
    expect(cache.lookup('k5', 'current')).toBeDefined();
  });

  it('keeps at most maxKeys keys, the least recently used dropped first, and no entry past maxAgeMs', async () => {
    const { cache, clock } = await started({ maxKeys: 2, maxAgeMs: 1000 });
    cache.store('k1', 'current', row('k1', '1'), cache.currentGeneration());
    cache.store('k2', 'current', row('k2', '1'), cache.currentGeneration());
    expect(cache.lookup('k1', 'current')).toBeDefined();
    cache.store('k3', 'current', row('k3', '1'), cache.currentGeneration());
    expect(cache.lookup('k2', 'current')).toBeUndefined();
    expect(cache.lookup('k1', 'current')).toBeDefined();
    clock.ms += 1001;
    expect(cache.lookup('k1', 'current')).toBeUndefined();
    expect(cache.lookup('k3', 'current')).toBeUndefined();
  });

  it('is never used when turned off', async () => {
    const clock = new TestClock();
    const cache = new ReleaseCache(clock, { enabled: false, maxKeys: 10, maxAgeMs: 30_000 });
    const { database } = listeningDatabase();
    await cache.start(database, silent);
    cache.store('k1', 'current', row('k1', '1'), cache.currentGeneration());
    expect(cache.lookup('k1', 'current')).toBeUndefined();
    expect(cache.reads({} as never).fresh).toBe(true);
  });
});

describe('ReleaseReads', () => {
  it('requires at commit the epoch of the cached rows it used, none for rows it read itself', async () => {
    const { cache } = await started();
    const db = {} as never;
    cache.store('k1', 'current', row('k1', '7'), cache.currentGeneration());
    cache.store('k2', 'current', row('k2', '8'), cache.currentGeneration());
    const one = cache.reads(db);
    await one.find('k1', undefined);
    expect(one.requiredEpoch()).toBe('7');
    expect(one.currentAt('7')).toBe(true);
    expect(one.currentAt('8')).toBe(false);
    const two = cache.reads(db);
    await two.find('k1', undefined);
    await two.find('k2', undefined);
    expect(two.currentAt('7')).toBe(false);
    expect(two.currentAt('8')).toBe(false);
    expect(ReleaseReads.direct(db).currentAt('anything')).toBe(true);
    expect(cache.stats()).toEqual({ hit: 3, miss: 0, stale: 0 });
  });
});
