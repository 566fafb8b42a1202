// Seals the vectors' plaintexts with the TypeScript implementation (run `npm run build` first; then
// `python3 make_python.py`, which seals them with the Python SDK and writes manifest.json). See README.md.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable, Writable } from 'node:stream';

const here = dirname(fileURLToPath(import.meta.url));
const { sealStream } = await import(join(here, '..', '..', '..', 'dist', 'agent', 'sealed', 'stream.js'));
const params = JSON.parse(readFileSync(join(here, 'params.json'), 'utf8'));
const dataKey = Buffer.from(params.dataKeyHex, 'hex');

/** The deterministic plaintext of `length` bytes: SHA-256("keyward sealed vector" ‖ u32 counter) blocks. */
export function plaintextOf(length) {
  const blocks = [];
  for (let i = 0; blocks.length * 32 < length; i++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(i);
    blocks.push(createHash('sha256').update('keyward sealed vector').update(counter).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

for (const vector of params.vectors) {
  const plaintext = plaintextOf(vector.plaintextLength);
  writeFileSync(join(here, vector.plaintext), plaintext);
  const parts = [];
  await sealStream(Readable.from([plaintext]), new Writable({ write(chunk, _enc, cb) { parts.push(chunk); cb(); } }), {
    dataKey,
    keyId: params.keyId,
    keyVersion: params.keyVersion,
    wrappedDataKey: params.wrappedDataKey,
    chunkSize: params.chunkSize,
    name: vector.plaintext,
  });
  writeFileSync(join(here, `${vector.id}.node.sealed`), Buffer.concat(parts));
  console.log(`wrote ${vector.id}.node.sealed`);
}
