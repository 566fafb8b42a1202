// Release budgets are judged on a sliding-window estimate over Postgres counters, so a burst straddling a
// window boundary cannot get twice the budget (as fixed windows allowed), and Retry-After says when the
// next request fits. On PGlite and Postgres, with a clock the test moves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimits, retryAfterSeconds, slidingCount, WINDOW_MS } from '../../../src/broker/rate-limit.js';
import { KeywardError } from '../../../src/errors.js';
import { DB_KINDS, createTestDatabase, type TestDatabase } from '../../helpers/db.js';

const windowStart = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (ms: number): Date => new Date(windowStart + ms);

async function refusal(p: Promise<void>): Promise<KeywardError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(KeywardError);
  return err as KeywardError;
}

describe('sliding-window arithmetic', () => {
  it('weighs the previous window by the share of it still inside the last minute', () => {
    expect(slidingCount({ count: 2, previous: 10 }, 0)).toBe(12);
    expect(slidingCount({ count: 2, previous: 10 }, 0.25)).toBe(9.5);
    expect(slidingCount({ count: 2, previous: 10 }, 1)).toBe(2);
  });

  it('Retry-After: until the previous share decays enough, else past the next boundary', () => {
    // 10 last window, 2 now, limit 5, 10% in: room 3 needs previous*(1-e) <= 3 → e >= 0.7 → 36 s.
    expect(retryAfterSeconds({ count: 2, previous: 10 }, 5, 0.1)).toBe(36);
    // Over the limit inside this window alone (6 of 5) at 50%: 30 s to the boundary, then 1/6 of a window.
    expect(retryAfterSeconds({ count: 6, previous: 0 }, 5, 0.5)).toBe(40);
    expect(retryAfterSeconds({ count: 1, previous: 0 }, 5, 0.999)).toBe(1);
  });
});

describe.each(DB_KINDS)('RateLimits on %s', (kind) => {
  let db: TestDatabase;
  let now = at(0);
  const clock = { now: () => now };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => db?.drop());

  it('a burst at the end of one window and the start of the next gets the budget once, not twice', async () => {
    const limits = new RateLimits(db.database.db, clock);
    const budget = { scope: 'key' as const, subject: 'k-boundary', limit: 5 };
    now = at(WINDOW_MS - 1000);
    for (let i = 0; i < 5; i++) await limits.take([budget]);
    expect((await refusal(limits.take([budget]))).code).toBe('ERR_RATE_LIMITED');
    // 1 s into the next window, ~98% of the previous window's 6 still count: refused (fixed windows allowed 5 more).
    now = at(WINDOW_MS + 1000);
    const err = await refusal(limits.take([budget]));
    expect(err.code).toBe('ERR_RATE_LIMITED');
    expect(err.extra?.['retryAfterSeconds']).toBeGreaterThanOrEqual(1);
    // A whole window later the old burst has decayed away and this window holds only the one refused request.
    now = at(2 * WINDOW_MS + 1000);
    for (let i = 0; i < 3; i++) await limits.take([budget]);
  });

  it('check() refuses exactly when the next take() would, without counting', async () => {
    const limits = new RateLimits(db.database.db, clock);
    const budget = { scope: 'failures' as const, subject: '192.0.2.1', limit: 2 };
    now = at(10 * WINDOW_MS + 5000);
    await limits.check(budget);
    await limits.charge(budget);
    await limits.check(budget);
    await limits.charge(budget);
    expect((await refusal(limits.check(budget))).code).toBe('ERR_AUTH_TOO_MANY_FAILURES');
    // Half-way through the next window half of the 2 still count: one more fits, a second does not.
    now = at(11 * WINDOW_MS + WINDOW_MS / 2);
    await limits.check(budget);
    await limits.charge(budget);
    expect((await refusal(limits.check(budget))).code).toBe('ERR_AUTH_TOO_MANY_FAILURES');
  });

  it('purge() keeps the previous window (the estimate still reads it) and drops older ones', async () => {
    const limits = new RateLimits(db.database.db, clock);
    now = at(20 * WINDOW_MS);
    await limits.take([{ scope: 'tee', subject: 'snp:old', limit: 100 }]);
    now = at(21 * WINDOW_MS);
    await limits.take([{ scope: 'tee', subject: 'snp:prev', limit: 100 }]);
    now = at(22 * WINDOW_MS + 10);
    await limits.purge();
    const left = await db.database.db.selectFrom('rateCounters').select('subject').where('subject', 'like', 'snp:%').execute();
    expect(left.map((r) => r.subject)).toEqual(['snp:prev']);
  });
});
