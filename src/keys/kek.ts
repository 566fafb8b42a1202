// Root key-encryption keys (KEKs) behind one small interface, chosen by URI scheme (docs/design.md "Keys").
// Every sealed record has the same versioned layout whatever the provider:
//   0x00      format version (0x01 = AES-256-GCM)
//   0x01..0x0c  96-bit IV
//   0x0d..    ciphertext ‖ 128-bit GCM tag
import { KeywardError } from '../errors.js';

export const SEALED_FORMAT_V1 = 0x01;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export interface Kek {
  /** Stable, non-secret fingerprint of this KEK; stored next to every record it seals. */
  readonly id: string;
  /** Provider URI without secrets (for logs and the keks table). */
  readonly uri: string;
  readonly provider: 'file' | 'pkcs11';
  /** Seals `plaintext` bound to `aad`; returns a versioned record. */
  seal(plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** Opens a record sealed by this KEK with the same `aad`; anything else is ERR_SEALED_RECORD_INVALID. */
  open(record: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export type KekConfig =
  | { readonly provider: 'file'; readonly path: string; readonly create: boolean }
  | {
      readonly provider: 'pkcs11';
      readonly module: string;
      readonly token: string;
      readonly label: string;
      readonly pin: string;
      /** The URI as given, minus secrets. */
      readonly uri: string;
      readonly create: boolean;
    };

export function invalidRecord(cause?: unknown): KeywardError {
  return new KeywardError('ERR_SEALED_RECORD_INVALID', 'A sealed record could not be opened.', cause === undefined ? {} : { cause });
}

/** Splits a v1 record into IV and ciphertext‖tag, refusing unknown versions and short records. */
export function splitRecord(record: Uint8Array): { iv: Uint8Array; body: Uint8Array } {
  if (record.length < 1 + GCM_IV_BYTES + GCM_TAG_BYTES || record[0] !== SEALED_FORMAT_V1) throw invalidRecord();
  return { iv: record.subarray(1, 1 + GCM_IV_BYTES), body: record.subarray(1 + GCM_IV_BYTES) };
}

export function joinRecord(iv: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + iv.length + body.length);
  out[0] = SEALED_FORMAT_V1;
  out.set(iv, 1);
  out.set(body, 1 + iv.length);
  return out;
}

/** Opens the KEK a configuration names (creating it on first start where allowed). */
export async function openKek(config: KekConfig): Promise<Kek> {
  if (config.provider === 'file') {
    const { openFileKek } = await import('./kek-file.js');
    return openFileKek(config.path, config.create);
  }
  const { openPkcs11Kek } = await import('./kek-pkcs11.js');
  return openPkcs11Kek(config);
}

/** Opens a KEK this process has not opened yet (e.g. one another process rotated to), by id. */
export type KekLoader = (id: string) => Promise<Kek | undefined>;

/** A set of open KEKs by id: the active one seals, any known one opens. */
export class KekRing {
  private readonly byId = new Map<string, Kek>();

  constructor(
    private activeId: string,
    keks: readonly Kek[],
    private readonly loader?: KekLoader,
  ) {
    for (const k of keks) this.byId.set(k.id, k);
    if (!this.byId.has(activeId)) throw new KeywardError('ERR_KEK_UNKNOWN', 'The active KEK is not open.');
  }

  get active(): Kek {
    return this.byId.get(this.activeId) as Kek;
  }

  get(id: string): Kek {
    const kek = this.byId.get(id);
    if (!kek) throw new KeywardError('ERR_KEK_UNKNOWN', 'A record is sealed under a KEK this process has not opened.');
    return kek;
  }

  /** The KEK with this id, opening it through the loader when this process has not seen it yet. */
  async resolve(id: string): Promise<Kek> {
    if (!this.byId.has(id) && this.loader) {
      const kek = await this.loader(id);
      if (kek && kek.id === id) this.byId.set(id, kek);
    }
    return this.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  add(kek: Kek): void {
    this.byId.set(kek.id, kek);
  }

  setActive(id: string): void {
    this.get(id);
    this.activeId = id;
  }

  all(): Kek[] {
    return [...this.byId.values()];
  }

  async close(): Promise<void> {
    for (const kek of this.byId.values()) await kek.close();
  }
}
