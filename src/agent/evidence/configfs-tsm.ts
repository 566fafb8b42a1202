// Evidence from the Linux configfs-tsm report interface (Documentation/ABI/testing/configfs-tsm, kernel
// 6.7+): mkdir an entry under /sys/kernel/config/tsm/report, write `inblob` = bind, read `outblob`
// (SEV-SNP report or TDX quote), `auxblob` (SNP certificate table) and `provider`, check `generation`.
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { toBase64 } from '../../encoding.js';
import { parseSnpCertTable } from '../../evidence/snp/cert-table.js';
import { REPORT_SIZE as SNP_REPORT_SIZE } from '../../evidence/snp/layout.js';
import { checkBind, EvidenceProviderError, type EvidenceProvider, type WireEvidence } from './provider.js';

export const DEFAULT_TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';

/** The file operations the provider needs; tests inject a fake that behaves like the kernel's files. */
export interface TsmFileSystem {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
}

export const nodeTsmFileSystem: TsmFileSystem = {
  mkdir: async (path) => {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  readFile: async (path) => new Uint8Array(await readFile(path)),
  writeFile: (path, data) => writeFile(path, data),
};

export interface ConfigfsTsmOptions {
  /** The report directory (default /sys/kernel/config/tsm/report). */
  readonly root?: string;
  readonly fs?: TsmFileSystem;
  /** Tries when another writer changes our entry (generation mismatch); default 3. */
  readonly attempts?: number;
  /** When set, written to `privlevel` first (SEV-SNP VMPL of the report; must be ≥ privlevel_floor). */
  readonly privilegeLevel?: number;
}

const PROVIDERS: Readonly<Record<string, 'snp' | 'tdx'>> = { sev_guest: 'snp', tdx_guest: 'tdx' };

type Errno = NodeJS.ErrnoException;
const errnoOf = (err: unknown): string | undefined => (err as Errno | undefined)?.code;

function unavailable(root: string, err: unknown): EvidenceProviderError {
  const code = errnoOf(err);
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? `permission denied (creating a report entry needs root)`
      : code === 'ENXIO' || code === 'ENODEV'
        ? 'no TSM provider is registered (the sev-guest / tdx-guest driver is not loaded)'
        : 'the directory does not exist: this is not an SEV-SNP or TDX confidential VM, configfs is not mounted, or the kernel predates 6.7';
  return new EvidenceProviderError('ERR_AGENT_TSM_UNAVAILABLE', `configfs-tsm is not available at ${root}: ${why}.`, { cause: err });
}

function failed(what: string, err?: unknown): EvidenceProviderError {
  const detail = errnoOf(err) ? ` (${errnoOf(err)})` : '';
  return new EvidenceProviderError('ERR_AGENT_EVIDENCE_FAILED', `configfs-tsm: ${what}${detail}.`, err === undefined ? {} : { cause: err });
}

/** Thrown inside one attempt when our entry changed under us; retried, then reported as busy. */
class GenerationConflict extends Error {}

function decimal(bytes: Uint8Array, name: string): number {
  const text = Buffer.from(bytes).toString('latin1').trim();
  if (!/^\d+$/.test(text)) throw failed(`${name} is not a number`);
  return Number(text);
}

/**
 * The SNP report in outblob: exactly 0x4A0 bytes. A longer blob is accepted only when the rest is zero
 * padding (the kernel copies the firmware's response buffer); anything else is not a report.
 */
function snpReport(outblob: Uint8Array): Uint8Array {
  if (outblob.length < SNP_REPORT_SIZE) throw failed(`outblob holds ${outblob.length} bytes, not an SEV-SNP report (0x4A0 bytes)`);
  if (outblob.subarray(SNP_REPORT_SIZE).some((b) => b !== 0)) throw failed(`outblob holds ${outblob.length} bytes, more than one SEV-SNP report`);
  return outblob.subarray(0, SNP_REPORT_SIZE);
}

/** The certificates (VCEK/VLEK, ASK/ASVK, ARK) of the SNP certificate table in auxblob, DER. */
function snpCertificates(auxblob: Uint8Array | undefined): Uint8Array[] {
  if (!auxblob || auxblob.length === 0 || auxblob.every((b) => b === 0)) return [];
  try {
    return parseSnpCertTable(auxblob)
      .filter((e) => e.kind === 'vcek' || e.kind === 'vlek' || e.kind === 'ask' || e.kind === 'ark')
      .map((e) => e.der as Uint8Array);
  } catch (cause) {
    throw failed('auxblob is not a valid SEV-SNP certificate table', cause);
  }
}

interface Blobs {
  readonly tee: 'snp' | 'tdx';
  readonly outblob: Uint8Array;
  readonly auxblob: Uint8Array | undefined;
}

async function readOptional(fs: TsmFileSystem, path: string): Promise<Uint8Array | undefined> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw failed('reading auxblob failed', err);
  }
}

async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof EvidenceProviderError || err instanceof GenerationConflict) throw err;
    throw failed(what, err);
  }
}

/** One report from our own entry; the generation counter tells whether anyone else wrote to it meanwhile. */
async function requestReport(fs: TsmFileSystem, root: string, entry: string, bind: Uint8Array, opts: ConfigfsTsmOptions): Promise<Blobs> {
  let provider: string;
  try {
    provider = Buffer.from(await fs.readFile(join(entry, 'provider'))).toString('latin1').trim();
  } catch (err) {
    throw unavailable(root, err);
  }
  const tee = PROVIDERS[provider];
  if (!tee) throw failed(`the TSM provider "${provider.slice(0, 40)}" is not supported (only sev_guest and tdx_guest)`);
  const before = decimal(await step('reading generation failed', () => fs.readFile(join(entry, 'generation'))), 'generation');
  let writes = 0;
  if (opts.privilegeLevel !== undefined) {
    const level = opts.privilegeLevel;
    await step(`writing privlevel ${level} failed`, () => fs.writeFile(join(entry, 'privlevel'), Buffer.from(`${level}\n`)));
    writes++;
  }
  await step('writing inblob failed', () => fs.writeFile(join(entry, 'inblob'), bind));
  writes++;
  const outblob = await step('the kernel did not produce a report (reading outblob failed)', () =>
    fs.readFile(join(entry, 'outblob')).catch((err: unknown) => {
      // EBUSY/EAGAIN: the guest driver is serving someone else right now; worth another attempt.
      throw errnoOf(err) === 'EBUSY' || errnoOf(err) === 'EAGAIN' ? new GenerationConflict() : err;
    }),
  );
  const auxblob = tee === 'snp' ? await readOptional(fs, join(entry, 'auxblob')) : undefined;
  const after = decimal(await step('reading generation failed', () => fs.readFile(join(entry, 'generation'))), 'generation');
  if (after !== before + writes) throw new GenerationConflict();
  if (outblob.length === 0) throw failed('outblob is empty');
  return { tee, outblob, auxblob };
}

function toWire(blobs: Blobs): WireEvidence {
  if (blobs.tee === 'tdx') return { type: 'tdx', quote: toBase64(blobs.outblob) };
  return { type: 'snp', report: toBase64(snpReport(blobs.outblob)), certs: snpCertificates(blobs.auxblob).map(toBase64) };
}

async function collectOnce(fs: TsmFileSystem, root: string, bind: Uint8Array, opts: ConfigfsTsmOptions): Promise<WireEvidence> {
  // Our own entry per request (the kernel's advice against conflicts); the name is random so agents never share one.
  const entry = join(root, `keyward-${randomBytes(8).toString('hex')}`);
  try {
    await fs.mkdir(entry);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'ENXIO' || code === 'ENODEV') throw unavailable(root, err);
    throw failed(`creating a report entry in ${root} failed`, err);
  }
  try {
    return toWire(await requestReport(fs, root, entry, bind, opts));
  } finally {
    await fs.rmdir(entry).catch(() => undefined);
  }
}

/** The configfs-tsm provider: one SEV-SNP or TDX evidence item per collect, per the kernel's `provider`. */
export function createConfigfsTsmProvider(opts: ConfigfsTsmOptions = {}): EvidenceProvider {
  const root = opts.root ?? DEFAULT_TSM_REPORT_ROOT;
  const fs = opts.fs ?? nodeTsmFileSystem;
  const attempts = opts.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new EvidenceProviderError('ERR_AGENT_OPTIONS_INVALID', 'attempts must be a positive integer.');
  const level = opts.privilegeLevel;
  if (level !== undefined && !(Number.isInteger(level) && level >= 0 && level <= 3)) {
    throw new EvidenceProviderError('ERR_AGENT_OPTIONS_INVALID', 'The privilege level must be 0..3.');
  }
  return {
    name: 'configfs-tsm',
    async collect(bind) {
      checkBind(bind);
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          return [await collectOnce(fs, root, bind, opts)];
        } catch (err) {
          if (!(err instanceof GenerationConflict)) throw err;
          if (attempt < attempts) await sleep(20 * attempt);
        }
      }
      throw new EvidenceProviderError(
        'ERR_AGENT_TSM_BUSY',
        `configfs-tsm: another process kept writing to the report entry (${attempts} attempts); try again.`,
      );
    },
  };
}
