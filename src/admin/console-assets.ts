// The admin web console's static files (built by `npm run build` into dist/console/), held in memory and
// served by keyward itself at /console/ with a strict Content-Security-Policy (docs/console.md): only this
// origin's scripts and styles, no inline script, no eval, never framed.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** Headers every console response carries (the assets and the console's own 404s). */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** What a file name may look like: the build writes one flat folder of hashed names. */
export const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface ConsoleAsset {
  readonly body: Buffer;
  readonly type: string;
  /** Content-hashed names never change: browsers may keep them. index.html is always revalidated. */
  readonly immutable: boolean;
}

export interface ConsoleAssets {
  /** Where the files were read from, or null when the console was not built. */
  readonly dir: string | null;
  get(name: string): ConsoleAsset | undefined;
}

/** dist/console next to the compiled code (dist/admin/ → dist/console), or the repository's build when running from src/. */
function defaultDir(): string | null {
  const candidates = ['../console', '../../dist/console'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? null;
}

export function loadConsoleAssets(dir: string | null = defaultDir()): ConsoleAssets {
  const files = new Map<string, ConsoleAsset>();
  if (dir !== null) {
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      const path = join(dir, name);
      if (!type || !ASSET_NAME.test(name) || !statSync(path).isFile()) continue;
      files.set(name, { body: readFileSync(path), type, immutable: name !== 'index.html' && /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(name) });
    }
  }
  return { dir, get: (name) => files.get(name) };
}
