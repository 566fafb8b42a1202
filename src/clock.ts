// The only place keyward reads the wall clock; everything else takes a Clock or a `now` argument.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = {
  now: () => new Date(),
};

/** A clock fixed at one instant (for `keyward verify --at`, replaying evidence at a chosen time). */
export function fixedClock(at: Date): Clock {
  const ms = at.getTime();
  return { now: () => new Date(ms) };
}

/** Monotonic milliseconds for measuring durations (not wall time). */
export function monotonicMs(): number {
  return performance.now();
}
