// The collateral settings of loadConfig: KEYWARD_COLLATERAL_DIR (resolved), KEYWARD_KDS_URL (http(s) only),
// fetching off unless asked for.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { KeywardError } from '../../src/errors.js';

describe('loadConfig: collateral', () => {
  it('has no collateral directory, no KDS URL override and no fetching by default', () => {
    expect(loadConfig({})).toMatchObject({ collateralDir: undefined, kdsUrl: undefined, collateralFetch: false, pccsUrl: undefined });
  });

  it('resolves KEYWARD_COLLATERAL_DIR and takes KEYWARD_KDS_URL', () => {
    const c = loadConfig({ KEYWARD_COLLATERAL_DIR: 'collateral', KEYWARD_KDS_URL: 'http://127.0.0.1:9000', KEYWARD_COLLATERAL_FETCH: 'on' });
    expect(c).toMatchObject({ collateralDir: resolve('collateral'), kdsUrl: 'http://127.0.0.1:9000', collateralFetch: true });
  });

  it('refuses a KEYWARD_KDS_URL that is not http(s) (ERR_CONFIG_INVALID)', () => {
    let code: string | undefined;
    try {
      loadConfig({ KEYWARD_KDS_URL: 'ftp://kds' });
    } catch (err) {
      code = err instanceof KeywardError ? err.code : 'other';
    }
    expect(code).toBe('ERR_CONFIG_INVALID');
  });
});
