// The alert webhook signature: HMAC-SHA256 over "<timestamp>.<body>", so neither body nor timestamp can change.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signAlertBody } from '../../../src/broker/alert-webhook.js';

describe('signAlertBody', () => {
  it('is sha256= and the hex HMAC of "<timestamp>.<body>" under the secret', () => {
    const body = '{"kind":"alert.release-burst"}';
    const expected = createHmac('sha256', 'k'.repeat(32)).update(`1700000000.${body}`).digest('hex');
    expect(signAlertBody('k'.repeat(32), 1700000000, body)).toBe(`sha256=${expected}`);
  });

  it('changes with the timestamp, the body and the secret', () => {
    const base = signAlertBody('k'.repeat(32), 1700000000, '{}');
    expect(signAlertBody('k'.repeat(32), 1700000001, '{}')).not.toBe(base);
    expect(signAlertBody('k'.repeat(32), 1700000000, '{ }')).not.toBe(base);
    expect(signAlertBody('j'.repeat(32), 1700000000, '{}')).not.toBe(base);
  });
});
