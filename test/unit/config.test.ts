// Configuration: defaults, KEK URIs, and a clear ERR_CONFIG_INVALID for each bad setting.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { loadConfig, parseKekUri } from '../../src/config.js';

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:8750, PGlite in ./.keyward and a file KEK there', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8750, databaseUrl: undefined, dataDir: resolve('.keyward'), collateralFetch: false });
    expect(c.kek).toEqual({ provider: 'file', path: resolve('.keyward/kek') });
  });

  it('refuses bad values naming the variable', () => {
    const cases: Record<string, string>[] = [
      { KEYWARD_PORT: 'http' },
      { KEYWARD_PORT: '70000' },
      { KEYWARD_DATABASE_URL: 'mysql://x' },
      { KEYWARD_KEK: 'vault:x' },
      { KEYWARD_BOOTSTRAP_TOKEN: 'short' },
      { KEYWARD_COLLATERAL_FETCH: 'maybe' },
      { KEYWARD_LOG_LEVEL: 'loud' },
    ];
    for (const env of cases) {
      const name = Object.keys(env)[0] as string;
      expect(() => loadConfig(env)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining(name) }));
    }
  });

  it('parses a PKCS#11 URI with the PIN taken from pin-env, never from the URI', () => {
    const k = parseKekUri('pkcs11:/usr/lib/softhsm/libsofthsm2.so?token=kw&label=kek&pin-env=HSM_PIN', { HSM_PIN: '1234' });
    expect(k).toEqual({
      provider: 'pkcs11',
      module: '/usr/lib/softhsm/libsofthsm2.so',
      token: 'kw',
      label: 'kek',
      pin: '1234',
      uri: 'pkcs11:/usr/lib/softhsm/libsofthsm2.so?token=kw&label=kek&pin-env=HSM_PIN',
    });
    expect(() => parseKekUri('pkcs11:/m.so?token=a&label=b&pin-env=X', {})).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    expect(() => parseKekUri('pkcs11:/m.so?token=a&label=b&pin=1234&pin-env=X', { X: '1' })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });
});
