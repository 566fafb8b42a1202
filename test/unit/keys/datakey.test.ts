// Wrapped data keys open only under the key id and version they name; every edit is ERR_DATAKEY_INVALID.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { wrapDataKey, unwrapDataKey, parseWrappedDataKey, generateDataKey } from '../../../src/keys/datakey.js';
import { KeywardError } from '../../../src/errors.js';

const keyId = '0b6e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4';
const otherId = '0b6e1d2c-3f4a-4b5c-8d6e-000000000000';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof KeywardError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('data key wrapping', () => {
  const material = new Uint8Array(randomBytes(32));
  const dataKey = generateDataKey();
  const wrapped = wrapDataKey(material, keyId, 2, dataKey);

  it('names the key and version and round-trips', () => {
    expect(parseWrappedDataKey(wrapped)).toMatchObject({ keyId, version: 2 });
    expect(unwrapDataKey(material, keyId, 2, wrapped)).toEqual(dataKey);
  });

  it('refuses another key, another version, other material', () => {
    expect(code(() => unwrapDataKey(material, otherId, 2, wrapped))).toBe('ERR_DATAKEY_INVALID');
    expect(code(() => unwrapDataKey(material, keyId, 1, wrapped))).toBe('ERR_DATAKEY_INVALID');
    expect(code(() => unwrapDataKey(new Uint8Array(randomBytes(32)), keyId, 2, wrapped))).toBe('ERR_DATAKEY_INVALID');
    // Relabelled to another version: the AAD no longer matches.
    expect(code(() => unwrapDataKey(material, keyId, 3, wrapped.replace(`.${2}.`, '.3.')))).toBe('ERR_DATAKEY_INVALID');
    expect(code(() => unwrapDataKey(material, otherId, 2, wrapped.replace(keyId, otherId)))).toBe('ERR_DATAKEY_INVALID');
  });

  it('never opens a mutated blob to a different plaintext', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: wrapped.length - 1 }), fc.integer({ min: 1, max: 63 }), (pos, delta) => {
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
        const c = wrapped[pos] as string;
        const replaced = alphabet[(alphabet.indexOf(c) + delta) % alphabet.length] as string;
        const mutated = wrapped.slice(0, pos) + replaced + wrapped.slice(pos + 1);
        let out: Uint8Array | undefined;
        try {
          out = unwrapDataKey(material, keyId, 2, mutated);
        } catch (err) {
          expect((err as KeywardError).code).toBe('ERR_DATAKEY_INVALID');
          return;
        }
        // A base64url edit in padding bits can decode to the same bytes: then it must be the same key.
        expect(out).toEqual(dataKey);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses malformed strings', () => {
    for (const bad of ['', 'kw1', 'kw2.a.b.c', `kw1.${keyId}.0.AAAA`, `kw1.${keyId}.x.AAAA`, `kw1.not-a-uuid.1.AAAA`, `kw1.${keyId}.1.AAAA`]) {
      expect(code(() => unwrapDataKey(material, keyId, 1, bad))).toBe('ERR_DATAKEY_INVALID');
    }
  });
});
