// Both release flows behind one call, so a release test runs through each: the three calls (challenge →
// attest → POST /v1/keys/{id}/release with the token) and the one-shot POST /v1/release. The answer has
// the shape of the key release route's: status, problem body, or {keyId, version, jwe, releaseId}.
import { expect } from 'vitest';
import type { TestKeyward } from './keyward.js';
import { binding, type TeeKeyPair } from './tee.js';

export const RELEASE_FLOWS = ['token', 'one-shot'] as const;
export type ReleaseFlow = (typeof RELEASE_FLOWS)[number];

export interface ReleaseAnswer {
  readonly statusCode: number;
  readonly body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface ReleaseAsk {
  readonly version?: number;
  readonly wrappedDataKey?: string;
}

/**
 * Releases `keyId` to `tee` through `flow`, with the evidence `evidenceFor` makes for the binding of a fresh
 * challenge. In the token flow the attestation must succeed (its token is then used); in the one-shot
 * flow every refusal, of the evidence or of the key, is the one answer.
 */
export async function releaseThrough(
  kw: TestKeyward,
  flow: ReleaseFlow,
  tee: TeeKeyPair,
  evidenceFor: (bind: Uint8Array) => Promise<unknown[]>,
  keyId: string,
  ask: ReleaseAsk = {},
): Promise<ReleaseAnswer> {
  const challenge = await kw.request('POST', '/v1/challenge', { token: null });
  expect(challenge.statusCode).toBe(201);
  const { nonce } = challenge.json();
  const evidence = await evidenceFor(binding(nonce, tee));
  if (flow === 'token') {
    const attest = await kw.request('POST', '/v1/attest', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence } });
    expect(attest.statusCode, attest.body).toBe(200);
    const hasBody = ask.version !== undefined || ask.wrappedDataKey !== undefined;
    return kw.request('POST', `/v1/keys/${keyId}/release`, { token: attest.json().token, ...(hasBody ? { body: ask } : {}) });
  }
  const res = await kw.request('POST', '/v1/release', { token: null, body: { nonce, teePublicKey: tee.publicJwk, evidence, keys: [{ keyId, ...ask }] } });
  if (res.statusCode !== 200) return res;
  const releases = res.json().releases;
  expect(releases).toHaveLength(1);
  return { statusCode: 200, body: res.body, json: () => releases[0] };
}
