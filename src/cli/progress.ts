// A progress line on standard error for `keyward seal` / `unseal`: drawn only when stderr is a terminal
// and --quiet is not given, redrawn at most ten times a second, finished with a newline.
import { monotonicMs } from '../clock.js';
import type { Progress } from '../agent/sealed/stream.js';
import type { CliIo } from './main.js';

export interface ProgressLine {
  readonly update: (progress: Progress) => void;
  /** Ends the line (after success or failure). */
  readonly finish: () => void;
}

const MIB = 1024 * 1024;
const REDRAW_MS = 100;

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}

/** Formats one progress line: label, percentage (when the total is known), MiB done / total, MiB/s. */
export function formatProgress(label: string, progress: Progress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? `${mib((progress.bytesDone / elapsedMs) * 1000)} MiB/s` : '';
  const total = progress.bytesTotal;
  if (total === undefined || total === 0) return `${label} ${mib(progress.bytesDone)} MiB ${rate}`.trimEnd();
  const pct = Math.min(100, Math.floor((progress.bytesDone / total) * 100));
  const width = 24;
  const filled = Math.round((pct / 100) * width);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${mib(progress.bytesDone)}/${mib(total)} MiB ${rate}`.trimEnd();
}

export function createProgressLine(io: CliIo, label: string, quiet: boolean): ProgressLine {
  if (quiet || io.errIsTty !== true) return { update: () => undefined, finish: () => undefined };
  const started = monotonicMs();
  let last = -Infinity;
  let drawn = false;
  let latest: Progress | undefined;
  const draw = () => {
    if (!latest) return;
    io.err(`\r${formatProgress(label, latest, monotonicMs() - started)}\u001b[K`);
    drawn = true;
  };
  return {
    update(progress) {
      latest = progress;
      const now = monotonicMs();
      if (now - last < REDRAW_MS) return;
      last = now;
      draw();
    },
    finish() {
      draw();
      if (drawn) io.err('\n');
    },
  };
}
