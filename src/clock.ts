// The only place keyward reads the wall clock; everything else takes a Clock or a `now` argument.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = {
  now: () => new Date(),
};

/** Monotonic milliseconds for measuring durations (not wall time). */
export function monotonicMs(): number {
  return performance.now();
}
