// The workload commands' settings: the data dir and KEYWARD_TOKEN, never failing on server settings; and the
// environment handed to commands the agent runs, without keyward's secrets.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandEnvironment, loadAgentSettings } from '../../src/config.js';

describe('loadAgentSettings', () => {
  it('reads KEYWARD_DATA_DIR (default ./.keyward) and KEYWARD_TOKEN, ignoring server settings it does not use', () => {
    expect(loadAgentSettings({})).toEqual({ dataDir: resolve('.keyward'), token: undefined });
    expect(loadAgentSettings({ KEYWARD_DATA_DIR: '/tmp/agent', KEYWARD_TOKEN: 'tok', KEYWARD_PORT: 'not-a-port', KEYWARD_KEK: 'vault:x' })).toEqual({ dataDir: '/tmp/agent', token: 'tok' });
    expect(loadAgentSettings({ KEYWARD_TOKEN: '' }).token).toBeUndefined();
  });
});

describe('commandEnvironment', () => {
  it('passes the environment on without KEYWARD_TOKEN and KEYWARD_BOOTSTRAP_TOKEN', () => {
    const env = commandEnvironment({ PATH: '/bin', HOME: '/root', KEYWARD_TOKEN: 'secret', KEYWARD_BOOTSTRAP_TOKEN: 'secret2', KEYWARD_DATA_DIR: '/d' });
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', KEYWARD_DATA_DIR: '/d' });
  });
});
