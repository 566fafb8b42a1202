// Benchmark helpers: run a function repeatedly for a time budget and report operations per second.
import { resolve, join } from 'node:path';

export const VECTORS_DIR = resolve(process.env.KEYWARD_VECTORS_DIR ?? join(process.cwd(), 'test', 'vectors'));

/**
 * Calls `fn` (sync or async) in a loop for about `seconds` after a short warm-up and returns ops/s.
 * Measures CPU time of this process too, so results can be given per CPU second.
 */
export async function measure(fn, { seconds = 2, warmup = 0.3 } = {}) {
  const warmEnd = performance.now() + warmup * 1000;
  while (performance.now() < warmEnd) await fn();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { opsPerSecond: n / elapsed, cpuSecondsPerOp: cpuSeconds / n, iterations: n };
}

/** One JSON line per figure: {name, value, unit} plus ceiling and ratio where they apply. */
export function report(name, value, unit, extra = {}) {
  const line = { name, value: round(value), unit, ...extra };
  if (typeof line.ceiling === 'number') line.ceiling = round(line.ceiling);
  if (typeof line.ratio === 'number') line.ratio = round(line.ratio, 3);
  console.log(JSON.stringify(line));
  return line;
}

function round(x, digits = 1) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
