// Small display helpers.
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** "in 3 days", "2 hours ago" relative to `now`. */
export function relative(iso: string | null | undefined, now: number): string {
  if (!iso) return 'no expiry';
  const ms = new Date(iso).getTime() - now;
  const abs = Math.abs(ms);
  const [n, unit] = abs >= 86_400_000 ? [Math.round(abs / 86_400_000), 'day'] : abs >= 3_600_000 ? [Math.round(abs / 3_600_000), 'hour'] : [Math.max(1, Math.round(abs / 60_000)), 'minute'];
  const text = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

export function short(id: string | null | undefined, n = 8): string {
  return id ? (id.length > n ? `${id.slice(0, n)}…` : id) : '—';
}

export function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
