// The console as served: strict CSP on every console response, the built page loads only same-origin
// files and has no inline script, style or event handler, and the bundle stays small.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/admin/console-assets.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const BUILT = join(process.cwd(), 'dist', 'console');

let kw: TestKeyward;
beforeAll(async () => {
  kw = await startTestKeyward('pglite');
});
afterAll(async () => kw?.close());

describe('GET /console/', () => {
  it('serves the page with the strict CSP and no inline script (built by npm run build)', async () => {
    expect(CONSOLE_CSP).toBe(CSP);
    const res = await kw.request('GET', '/console/', { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const html = res.body;
    expect(html).toBe(readFileSync(join(BUILT, 'index.html'), 'utf8'));
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/console\/[A-Za-z0-9._-]+\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it('serves every built file with its type and the CSP; unknown files are problem+json 404s with the CSP', async () => {
    for (const name of readdirSync(BUILT)) {
      const res = await kw.request('GET', `/console/${name}`, { token: null });
      expect(res.statusCode, name).toBe(200);
      expect(res.headers['content-security-policy']).toBe(CSP);
      if (name.endsWith('.js')) {
        expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
        expect(res.body).not.toMatch(/\beval\(|new Function\(/);
      }
    }
    const missing = await kw.request('GET', '/console/nope.js', { token: null });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('ERR_ROUTE_NOT_FOUND');
    expect(missing.headers['content-security-policy']).toBe(CSP);
    expect((await kw.request('GET', '/console/..%2Fpackage.json', { token: null })).statusCode).toBe(400);
  });

  it('keeps the whole console under 250 kB gzip', () => {
    const total = readdirSync(BUILT).reduce((sum, name) => {
      const path = join(BUILT, name);
      return statSync(path).isFile() ? sum + gzipSync(readFileSync(path), { level: 9 }).length : sum;
    }, 0);
    expect(total).toBeLessThan(250 * 1024);
  });
});
