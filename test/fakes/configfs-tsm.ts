// A fake of the kernel's configfs-tsm report files (Documentation/ABI/testing/configfs-tsm) behind the
// TsmFileSystem interface: entries made by mkdir, `generation` bumped by every write, `outblob` computed
// from `inblob` by a callback when read. A plain directory cannot react to writes, hence this fake.
// What it does NOT model: configfs permissions beyond the switches below, and real firmware.
import { dirname, basename } from 'node:path';
import type { TsmFileSystem } from '../../src/agent/evidence/configfs-tsm.js';

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

interface Entry {
  generation: number;
  inblob?: Uint8Array;
  privlevel?: number;
}

export interface FakeTsmOptions {
  readonly root: string;
  /** Contents of `provider` (the kernel: sev_guest, tdx_guest). */
  readonly provider: string;
  /** What `outblob` holds for an inblob (and privlevel): the "firmware". */
  readonly outblob: (inblob: Uint8Array, privlevel: number) => Uint8Array | Promise<Uint8Array>;
  /** What `auxblob` holds; absent → the file does not exist. */
  readonly auxblob?: Uint8Array;
}

export class FakeTsmKernel implements TsmFileSystem {
  readonly entries = new Map<string, Entry>();
  /** Every entry ever created and every write, in order (for assertions). */
  readonly log: string[] = [];
  readonly writes: { file: string; data: Uint8Array }[] = [];
  /** Reads of outblob during which "another process" writes to the entry (a generation bump). */
  interfere = 0;
  /** Reads of outblob that fail with EBUSY. */
  busyReads = 0;
  /** Errno codes to fail operations with. */
  mkdirError: string | undefined;
  inblobError: string | undefined;

  constructor(private readonly opts: FakeTsmOptions) {}

  private entry(path: string): Entry {
    const e = this.entries.get(dirname(path));
    if (!e) throw errno('ENOENT', path);
    return e;
  }

  async mkdir(path: string): Promise<void> {
    if (this.mkdirError) throw errno(this.mkdirError, path);
    if (dirname(path) !== this.opts.root) throw errno('ENOENT', path);
    if (this.entries.has(path)) throw errno('EEXIST', path);
    this.entries.set(path, { generation: 0 });
    this.log.push(`mkdir ${basename(path)}`);
  }

  async rmdir(path: string): Promise<void> {
    if (!this.entries.delete(path)) throw errno('ENOENT', path);
    this.log.push(`rmdir ${basename(path)}`);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const e = this.entry(path);
    switch (basename(path)) {
      case 'provider':
        return Buffer.from(`${this.opts.provider}\n`);
      case 'generation':
        return Buffer.from(`${e.generation}\n`);
      case 'outblob':
        if (this.busyReads > 0) {
          this.busyReads--;
          throw errno('EBUSY', path);
        }
        if (this.interfere > 0) {
          this.interfere--;
          e.generation++;
        }
        if (!e.inblob) throw errno('EINVAL', 'inblob not written');
        return this.opts.outblob(e.inblob, e.privlevel ?? 0);
      case 'auxblob':
        if (!this.opts.auxblob) throw errno('ENOENT', path);
        return this.opts.auxblob;
      default:
        throw errno('ENOENT', path);
    }
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const e = this.entry(path);
    const file = basename(path);
    this.writes.push({ file, data: new Uint8Array(data) });
    if (file === 'inblob') {
      if (this.inblobError) throw errno(this.inblobError, path);
      if (data.length > 64) throw errno('EINVAL', 'inblob larger than 64 bytes');
      e.inblob = new Uint8Array(data);
    } else if (file === 'privlevel') {
      e.privlevel = Number(Buffer.from(data).toString('latin1').trim());
    } else {
      throw errno('EACCES', path);
    }
    e.generation++;
  }
}
