// Anomaly-alert settings: defaults, kinds, thresholds, and a webhook that is never unsigned.
import { describe, expect, it } from 'vitest';
import { commandEnvironment, loadConfig } from '../../src/config.js';

const SECRET = 'x'.repeat(32);

describe('alert settings', () => {
  it('raise every kind by default, with a 60 s burst window over 60 windows, factor 10, floor 30, and 5 denials in 300 s; no webhook', () => {
    const a = loadConfig({}).alerts;
    expect([...a.kinds].sort()).toEqual(['new-tee-identity', 'release-burst', 'repeated-denials']);
    expect(a.burst).toEqual({ windowSeconds: 60, baselineWindows: 60, factor: 10, floor: 30 });
    expect(a.denials).toEqual({ windowSeconds: 300, threshold: 5 });
    expect(a.webhook).toBeUndefined();
  });

  it('KEYWARD_ALERTS picks kinds, off turns them all off', () => {
    expect([...loadConfig({ KEYWARD_ALERTS: 'release-burst, repeated-denials' }).alerts.kinds].sort()).toEqual(['release-burst', 'repeated-denials']);
    expect(loadConfig({ KEYWARD_ALERTS: 'off' }).alerts.kinds.size).toBe(0);
  });

  it('reads the webhook with its retry settings', () => {
    const w = loadConfig({ KEYWARD_ALERT_WEBHOOK: 'https://hooks.example.com/k', KEYWARD_ALERT_WEBHOOK_SECRET: SECRET, KEYWARD_ALERT_WEBHOOK_ATTEMPTS: '3' }).alerts.webhook;
    expect(w).toEqual({ url: 'https://hooks.example.com/k', secret: SECRET, attempts: 3, backoffMs: 1000, timeoutMs: 5000 });
  });

  it('refuses bad values naming the variable, and a webhook without a secret of 32 characters', () => {
    const cases: Record<string, string>[] = [
      { KEYWARD_ALERTS: 'new-tee-identity,everything' },
      { KEYWARD_ALERT_BURST_FACTOR: '1' },
      { KEYWARD_ALERT_BURST_WINDOW: '5' },
      { KEYWARD_ALERT_DENIAL_THRESHOLD: '0' },
      { KEYWARD_ALERT_WEBHOOK: 'ftp://hooks.example.com' },
      { KEYWARD_ALERT_WEBHOOK: 'https://hooks.example.com', KEYWARD_ALERT_WEBHOOK_SECRET: 'short' },
      { KEYWARD_ALERT_WEBHOOK: 'https://hooks.example.com', KEYWARD_ALERT_WEBHOOK_SECRET: SECRET, KEYWARD_ALERT_WEBHOOK_ATTEMPTS: '0' },
    ];
    for (const env of cases) {
      const name = Object.keys(env).at(-1) as string;
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining(name === 'KEYWARD_ALERT_WEBHOOK_SECRET' ? 'KEYWARD_ALERT_WEBHOOK_SECRET' : name) }));
    }
  });

  it('keeps the webhook secret from commands the agent runs', () => {
    expect(commandEnvironment({ PATH: '/bin', KEYWARD_ALERT_WEBHOOK_SECRET: SECRET })).toEqual({ PATH: '/bin' });
  });
});
