// Configuration: defaults, KEK URIs, and a clear ERR_CONFIG_INVALID for each bad setting.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { loadConfig, parseKekUri } from '../../src/config.js';

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:8750, PGlite in ./.keyward and a file KEK there', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8750, databaseUrl: undefined, dataDir: resolve('.keyward'), collateralFetch: false, releaseCache: true });
    expect(loadConfig({ KEYWARD_RELEASE_CACHE: 'off' }).releaseCache).toBe(false);
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
      { KEYWARD_RELEASE_CACHE: 'sometimes' },
      { KEYWARD_LOG_LEVEL: 'loud' },
    ];
    for (const env of cases) {
      const name = Object.keys(env)[0] as string;
      expect(() => loadConfig(env)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining(name) }));
    }
  });

  it('parses a PKCS#11 URI with the PIN taken from pin-env, never from the URI', () => {
    const k = parseKekUri('pkcs11:/usr/lib/softhsm/libsofthsm2.so?token=kw&label=kek&pin-env=KEYWARD_KEK_PIN_HSM', { KEYWARD_KEK_PIN_HSM: '1234' });
    expect(k).toEqual({
      provider: 'pkcs11',
      module: '/usr/lib/softhsm/libsofthsm2.so',
      token: 'kw',
      label: 'kek',
      pin: '1234',
      uri: 'pkcs11:/usr/lib/softhsm/libsofthsm2.so?token=kw&label=kek&pin-env=KEYWARD_KEK_PIN_HSM',
    });
    expect(() => parseKekUri('pkcs11:/m.so?token=a&label=b&pin-env=KEYWARD_KEK_PIN_X', {})).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    expect(() => parseKekUri('pkcs11:/m.so?token=a&label=b&pin=1234&pin-env=KEYWARD_KEK_PIN_X', { KEYWARD_KEK_PIN_X: '1' })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });

  it('refuses a pin-env without the KEYWARD_KEK_PIN_ prefix, in KEYWARD_KEK and in KEYWARD_KEK_TARGETS', () => {
    const secrets = { HSM_PIN: '1234', KEYWARD_BOOTSTRAP_TOKEN: 'x'.repeat(32), PGPASSWORD: 'p', KEYWARD_KEK_PIN_: '1', keyward_kek_pin_a: '1' };
    for (const pinEnv of Object.keys(secrets)) {
      const uri = `pkcs11:/m.so?token=a&label=b&pin-env=${pinEnv}`;
      expect(() => parseKekUri(uri, secrets), pinEnv).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining('KEYWARD_KEK_PIN_') }));
      expect(() => loadConfig({ ...secrets, KEYWARD_KEK: uri }), pinEnv).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
      expect(() => loadConfig({ ...secrets, KEYWARD_KEK_TARGETS: `hsm=${uri}` }), pinEnv).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining('KEYWARD_KEK_TARGETS') }),
      );
    }
  });

  it('parses KEYWARD_KEK_TARGETS into named KEK settings, and refuses bad names, duplicates and bad URIs', () => {
    const env = { KEYWARD_KEK_PIN_HSM: '1234' };
    const c = loadConfig({ ...env, KEYWARD_KEK_TARGETS: ' next=file:/var/lib/keyward/kek-2 , hsm_2=pkcs11:/usr/lib/x.so?token=t&label=l&pin-env=KEYWARD_KEK_PIN_HSM' });
    expect([...c.kekTargets.keys()]).toEqual(['next', 'hsm_2']);
    expect(c.kekTargets.get('next')).toEqual({ provider: 'file', path: '/var/lib/keyward/kek-2' });
    expect(c.kekTargets.get('hsm_2')).toMatchObject({ provider: 'pkcs11', module: '/usr/lib/x.so', pin: '1234' });
    expect(loadConfig({}).kekTargets.size).toBe(0);
    for (const targets of ['Next=file:/k', 'a', '=file:/k', 'a=file:/k,a=file:/j', 'a=vault:x', 'a=file:', `${'a'.repeat(33)}=file:/k`]) {
      expect(() => loadConfig({ ...env, KEYWARD_KEK_TARGETS: targets }), targets).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining('KEYWARD_KEK_TARGETS') }),
      );
    }
  });
});
