// Packaging stays correct without Docker here: the published file list exists, the compose file keeps
// no secret in plain text and no hard-coded port, and the image build has every file its scripts use.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { spawnSync } from 'node:child_process';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { files: string[]; scripts: Record<string, string>; engines: { node: string } };

describe('packaging', () => {
  it('every entry of package.json "files" exists (dist after a build)', () => {
    for (const entry of pkg.files) expect(existsSync(entry), entry).toBe(true);
  });

  it('`npm start` does not recompile a tree built since its last source change', () => {
    expect(pkg.scripts['prestart']).toBe('node scripts/build-if-stale.mjs');
    expect(existsSync('dist/.build-stamp')).toBe(true);
    const res = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stderr).toBe('');
  });

  it('docker-compose.yml takes the database password and the port from the environment', () => {
    const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { environment?: Record<string, string>; ports?: string[] }> };
    const pg = compose.services['postgres']?.environment ?? {};
    expect(pg['POSTGRES_PASSWORD']).toMatch(/^\$\{KEYWARD_PG_PASSWORD:\?/);
    const kw = compose.services['keyward']?.environment ?? {};
    expect(kw['KEYWARD_DATABASE_URL']).toContain('${KEYWARD_PG_PASSWORD');
    expect(kw['KEYWARD_PORT']).toBe('${KEYWARD_PORT:-8750}');
    expect(compose.services['keyward']?.ports?.[0]).toBe('127.0.0.1:${KEYWARD_PORT:-8750}:${KEYWARD_PORT:-8750}');
  });

  it('the Dockerfile copies what `npm ci` runs (scripts/ for the build) and checks health on the configured port', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    for (const path of pkg.scripts['build']?.match(/scripts\/[\w.-]+/g) ?? []) {
      expect(existsSync(path)).toBe(true);
      expect(dockerfile).toContain('COPY scripts ./scripts');
    }
    expect(dockerfile).toMatch(/HEALTHCHECK .*process\.env\.KEYWARD_PORT/);
    expect(readFileSync('.dockerignore', 'utf8')).not.toMatch(/^scripts$/m);
  });
});
