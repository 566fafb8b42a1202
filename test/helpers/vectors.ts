// Locates the real-hardware test vectors (KEYWARD_VECTORS_DIR, default test/vectors; see test/vectors/*/PROVENANCE.md).
import { readFileSync } from 'node:fs';
import { resolve, join } from 'node:path';

export const VECTORS_DIR = resolve(process.env.KEYWARD_VECTORS_DIR ?? join(process.cwd(), 'test', 'vectors'));

export function vectorPath(...parts: string[]): string {
  return join(VECTORS_DIR, ...parts);
}

export function readVector(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(...parts)));
}

export function readVectorText(...parts: string[]): string {
  return readFileSync(vectorPath(...parts), 'utf8');
}

export function readManifest<T = unknown>(area: 'snp' | 'intel' | 'nvidia' | 'nitro'): T {
  return JSON.parse(readVectorText(area, 'manifest.json')) as T;
}
