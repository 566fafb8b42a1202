// Outside tools some suites need (SoftHSM2, Postgres, Chromium, Terraform). On a fresh machine that lacks
// one, its suites skip with a one-line reason naming what to install; with KEYWARD_REQUIRE_ALL=1 (CI) the
// run fails instead, before any test starts (global-setup.ts calls assertRequirements).
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Requirement {
  readonly name: string;
  readonly available: boolean;
  /** What to do about it, for the skip line. */
  readonly install: string;
}

function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

export const SOFTHSM: Requirement = {
  name: 'SoftHSM2',
  available: existsSync('/usr/lib/softhsm/libsofthsm2.so') && onPath('softhsm2-util'),
  install: 'apt-get install softhsm2',
};

export const POSTGRES: Requirement = {
  name: 'Postgres',
  available: Boolean(process.env['KEYWARD_TEST_DATABASE_URL']),
  install: 'start a Postgres 15+ and set KEYWARD_TEST_DATABASE_URL=postgres://user@127.0.0.1:5432/test (.ci/run does)',
};

export const CHROMIUM_PATH = process.env['KEYWARD_CHROMIUM'] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export const CHROMIUM: Requirement = {
  name: 'Chromium',
  available: CHROMIUM_PATH !== undefined && existsSync(CHROMIUM_PATH),
  install: 'apt-get install chromium (or set KEYWARD_CHROMIUM to a Chromium binary)',
};

export const ALL_REQUIREMENTS: readonly Requirement[] = [SOFTHSM, POSTGRES, CHROMIUM];

export const REQUIRE_ALL = process.env['KEYWARD_REQUIRE_ALL'] === '1';

/** The suite title for a suite that needs `req`: it says why it skipped when it does. */
export function titleNeeding(req: Requirement, title: string): string {
  return req.available ? title : `${title} — skipped: ${req.name} missing (${req.install})`;
}

/** Throws (failing the run) when KEYWARD_REQUIRE_ALL=1 and a requirement is missing; otherwise prints one line per missing one. */
export function assertRequirements(): void {
  const missing = ALL_REQUIREMENTS.filter((r) => !r.available);
  for (const r of missing) process.stderr.write(`keyward tests: ${r.name} missing, its suites skip — ${r.install}\n`);
  if (REQUIRE_ALL && missing.length > 0) {
    throw new Error(`KEYWARD_REQUIRE_ALL=1 but missing: ${missing.map((r) => `${r.name} (${r.install})`).join('; ')}`);
  }
}
