// Fresh key pairs: consistent encodings, and no Node 20 deadlock between exporting a key and a garbage
// collection freeing its generation job (the old pattern, generateKeyPairSync then export, froze within a
// few thousand iterations under a small young generation; this loop runs far more than that in a child
// process, so a hang fails the test instead of freezing the suite).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPublicKey, diffieHellman, sign, verify } from 'node:crypto';
import { freshKeyPair } from '../../../src/keys/key-pair.js';

describe('freshKeyPair', () => {
  it('returns key objects matching their DER encodings, for every kind keyward generates', () => {
    const specs = [{ type: 'ed25519' }, { type: 'x25519' }, { type: 'ec', namedCurve: 'P-256' }, { type: 'ec', namedCurve: 'P-384' }, { type: 'rsa', modulusLength: 2048 }] as const;
    for (const spec of specs) {
      const pair = freshKeyPair(spec);
      expect(Buffer.compare(pair.publicKey.export({ type: 'spki', format: 'der' }), pair.spki)).toBe(0);
      expect(Buffer.compare(pair.privateKey.export({ type: 'pkcs8', format: 'der' }), pair.pkcs8)).toBe(0);
      expect(pair.publicKey.asymmetricKeyType).toBe(spec.type);
      expect(createPublicKey(pair.privateKey).export({ type: 'spki', format: 'der' }).equals(pair.spki)).toBe(true);
    }
    const signer = freshKeyPair({ type: 'ed25519' });
    expect(verify(null, Buffer.from('m'), signer.publicKey, sign(null, Buffer.from('m'), signer.privateKey))).toBe(true);
    const a = freshKeyPair({ type: 'x25519' });
    const b = freshKeyPair({ type: 'x25519' });
    expect(diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }).equals(diffieHellman({ privateKey: b.privateKey, publicKey: a.publicKey }))).toBe(true);
    expect(a.spki.equals(b.spki)).toBe(false);
  });

  it('survives 12,000 generate-then-export rounds under constant garbage collection', async () => {
    const module = pathToFileURL(join(process.cwd(), 'dist', 'keys', 'key-pair.js')).href;
    const script = `
      const { freshKeyPair } = await import(${JSON.stringify(module)});
      let junk = [];
      for (let i = 0; i < 12000; i++) {
        const pair = freshKeyPair({ type: i % 2 ? 'ed25519' : 'x25519' });
        pair.publicKey.export({ format: 'jwk' });
        pair.privateKey.export({ type: 'pkcs8', format: 'der' });
        junk.push(new Array(50).fill(i));
        if (junk.length > 1000) junk = [];
      }
      console.log('rounds done');`;
    const child = spawn(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    expect(signal, 'the child hung (deadlocked) and was killed').toBeNull();
    expect(code, out).toBe(0);
    expect(out.trim()).toBe('rounds done');
  }, 120_000);
});
