// Envelope encryption of key material (docs/design.md "Keys"): each version sealed under the root KEK with
// AAD `keyward:v1:<keyId>:<version>`, so a record moved to another row no longer opens.
import type { Kek } from './kek.js';

export const MATERIAL_BYTES = 32;

export function materialAad(keyId: string, version: number): Uint8Array {
  return Buffer.from(`keyward:v1:${keyId}:${version}`, 'utf8');
}

export function importKeyAad(kid: string): Uint8Array {
  return Buffer.from(`keyward:v1:import-key:${kid}`, 'utf8');
}

export function sealMaterial(kek: Kek, keyId: string, version: number, material: Uint8Array): Promise<Uint8Array> {
  return kek.seal(material, materialAad(keyId, version));
}

export function openMaterial(kek: Kek, keyId: string, version: number, record: Uint8Array): Promise<Uint8Array> {
  return kek.open(record, materialAad(keyId, version));
}
