// Sealed directories of shards (docs/sealed-format.md §6.2): one data key per seal, a sealed file per
// input file with its relative name bound into its header, and a sealed manifest pinning every file.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { isSafeRelativeName, type SealedHeader } from './format.js';
import {
  isDirectory,
  openInputFile,
  readSealedFileHeader,
  sealFileAs,
  tempSiblingPath,
  writeFileAtomically,
  PLAINTEXT_FILE_MODE,
  SEALED_FILE_MODE,
  type FileSealOptions,
  type FileUnsealOptions,
} from './files.js';
import { SealedFileError, toSealedFileError } from './sealed-error.js';
import { openSealedStream, readSealedStreamHeader, sealStreamAs, type ByteSource, type Progress } from './stream.js';

/** The manifest's file name in a sealed directory, and the suffix of every sealed shard. */
export const MANIFEST_FILE = 'keyward-manifest.sealed';
export const SEALED_SUFFIX = '.sealed';
const MANIFEST_FORMAT = 'keyward-sealed-directory';
/** The manifest is unsealed in memory: cap it (about 40,000 entries of long names). */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface ManifestEntry {
  /** Relative POSIX path of the plaintext file. */
  readonly name: string;
  /** Plaintext size in bytes. */
  readonly size: number;
  /** SHA-256 (hex) of the shard's sealed header: pins salt, name and wrapped key, hence its chunks. */
  readonly header: string;
}

export interface DirectoryResult {
  readonly manifest: SealedHeader;
  readonly files: readonly ManifestEntry[];
  readonly plaintextBytes: number;
}

export type DirectorySealOptions = Omit<FileSealOptions, 'name'>;

function mismatch(message: string, cause?: unknown): SealedFileError {
  return new SealedFileError('ERR_SEALED_DIRECTORY_MISMATCH', `sealed directory does not match its manifest: ${message}`, { cause });
}

function unreadable(message: string, cause?: unknown): SealedFileError {
  return new SealedFileError('ERR_SEALED_INPUT_UNREADABLE', message, { cause });
}

/** Regular files under `root` (following file symlinks, not directory symlinks), as sorted relative names. */
async function listFiles(root: string, rel = ''): Promise<{ name: string; size: number }[]> {
  const out: { name: string; size: number }[] = [];
  let entries: string[];
  try {
    entries = (await readdir(join(root, rel))).sort();
  } catch (err) {
    throw unreadable(`cannot list directory ${join(root, rel)}`, err);
  }
  for (const entry of entries) {
    const name = rel === '' ? entry : `${rel}/${entry}`;
    const path = join(root, name);
    const link = await lstat(path).catch((err: unknown) => {
      throw unreadable(`cannot read ${name}`, err);
    });
    if (link.isDirectory()) {
      out.push(...(await listFiles(root, name)));
      continue;
    }
    const info = link.isSymbolicLink() ? await stat(path).catch(() => undefined) : link;
    if (!info?.isFile()) throw unreadable(`not a regular file (or a symlink to one): ${name}`);
    if (!isSafeRelativeName(name)) throw unreadable(`file name cannot be sealed (control characters or backslash): ${name}`);
    out.push({ name, size: info.size });
  }
  return out;
}

/** `outDir` may not exist yet, or be an empty directory (the finished directory is renamed onto it). */
async function checkOutputDirectory(outDir: string): Promise<void> {
  const info = await stat(outDir).catch(() => undefined);
  if (info === undefined) return;
  const empty = info.isDirectory() && (await readdir(outDir).catch(() => ['?'])).length === 0;
  if (!empty) throw new SealedFileError('ERR_SEALED_OUTPUT_UNWRITABLE', `output exists and is not an empty directory: ${outDir}`);
}

/** Builds a directory in a hidden temp sibling of `outDir`, renamed into place on success, removed on failure. */
async function buildDirectoryAtomically<T>(outDir: string, mode: number, build: (temp: string) => Promise<T>): Promise<T> {
  await checkOutputDirectory(outDir);
  const temp = tempSiblingPath(outDir);
  try {
    await mkdir(temp, { mode });
  } catch (err) {
    throw new SealedFileError('ERR_SEALED_OUTPUT_UNWRITABLE', `cannot create output next to ${outDir}`, { cause: err });
  }
  try {
    const result = await build(temp);
    try {
      await rename(temp, outDir);
    } catch (err) {
      throw new SealedFileError('ERR_SEALED_OUTPUT_UNWRITABLE', `cannot move output into place at ${outDir}`, { cause: err });
    }
    return result;
  } catch (err) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw toSealedFileError(err, 'writing the sealed directory');
  }
}

/** Reports progress over a whole directory: `offset` bytes of earlier files plus the current file's. */
function progressAt(options: { onProgress?: (p: Progress) => void }, offset: number, total: number) {
  const report = options.onProgress;
  return report && ((p: Progress) => report({ bytesDone: offset + p.bytesDone, bytesTotal: total }));
}

/**
 * Seals every regular file under `inDir` into `outDir` as `<name>.sealed`, all under one data key,
 * each with its own salt and its relative name in its header, plus `keyward-manifest.sealed`.
 */
export async function sealDirectory(inDir: string, outDir: string, options: DirectorySealOptions): Promise<DirectoryResult> {
  const files = await listFiles(inDir);
  if (files.some((f) => f.name + SEALED_SUFFIX === MANIFEST_FILE)) {
    throw unreadable(`an input file is named like the manifest (${MANIFEST_FILE.slice(0, -SEALED_SUFFIX.length)})`);
  }
  const total = files.reduce((sum, f) => sum + f.size, 0);
  return buildDirectoryAtomically(outDir, 0o755, async (temp) => {
    const entries: ManifestEntry[] = [];
    let done = 0;
    for (const file of files) {
      const target = join(temp, file.name + SEALED_SUFFIX);
      await mkdir(dirname(target), { recursive: true });
      const onProgress = progressAt(options, done, total);
      const sealed = await sealFileAs(join(inDir, file.name), target, { ...options, name: file.name, onProgress });
      entries.push({ name: file.name, size: sealed.plaintextBytes, header: headerDigest(sealed.header) });
      done += sealed.plaintextBytes;
    }
    const json = Buffer.from(JSON.stringify({ format: MANIFEST_FORMAT, version: 1, files: entries }));
    const manifest = await writeFileAtomically(join(temp, MANIFEST_FILE), SEALED_FILE_MODE, (out) =>
      sealStreamAs('manifest', Readable.from([json]), out, { ...options, name: '', onProgress: undefined }),
    );
    return { manifest: manifest.header, files: entries, plaintextBytes: done };
  });
}

export function headerDigest(header: SealedHeader): string {
  return createHash('sha256').update(header.bytes).digest('hex');
}

/** A Writable that keeps what it is given in memory, up to `max` bytes. */
function collector(max: number): { sink: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > max) return done(mismatch('the manifest is too large'));
      parts.push(chunk);
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(parts) };
}

function parseManifest(json: Buffer): ManifestEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw mismatch('the manifest is not JSON', err);
  }
  const { format, version, files } = (doc ?? {}) as { format?: unknown; version?: unknown; files?: unknown };
  if (format !== MANIFEST_FORMAT || version !== 1 || !Array.isArray(files)) throw mismatch('unknown manifest format');
  const seen = new Set<string>();
  return files.map((entry: unknown) => {
    const { name, size, header } = (entry ?? {}) as Record<string, unknown>;
    const ok =
      typeof name === 'string' &&
      isSafeRelativeName(name) &&
      !seen.has(name) &&
      Number.isSafeInteger(size) &&
      (size as number) >= 0 &&
      typeof header === 'string' &&
      /^[0-9a-f]{64}$/.test(header);
    if (!ok) throw mismatch('invalid manifest entry');
    seen.add(name as string);
    return { name, size, header } as ManifestEntry;
  });
}

async function readManifest(inDir: string, options: FileUnsealOptions): Promise<{ header: SealedHeader; entries: ManifestEntry[] }> {
  const input = await openInputFile(join(inDir, MANIFEST_FILE));
  const opened = await openSealedStream(input.stream);
  if (opened.header.kind !== 'manifest') {
    await opened.close();
    throw mismatch(`${MANIFEST_FILE} is not a manifest`);
  }
  const { sink, bytes } = collector(MAX_MANIFEST_BYTES);
  await opened.unseal(sink, { dataKey: options.dataKey, expect: options.expect, signal: options.signal });
  return { header: opened.header, entries: parseManifest(bytes()) };
}

/**
 * Every `*.sealed` file present must be listed in the manifest and every listed one present.
 * Returns the sealed size of each listed shard (for progress).
 */
async function checkShardSet(inDir: string, entries: readonly ManifestEntry[]): Promise<Map<string, number>> {
  const present = new Map(
    (await listFiles(inDir)).filter((f) => f.name.endsWith(SEALED_SUFFIX) && f.name !== MANIFEST_FILE).map((f) => [f.name, f.size]),
  );
  const sizes = new Map<string, number>();
  for (const entry of entries) {
    const size = present.get(entry.name + SEALED_SUFFIX);
    if (size === undefined) throw mismatch(`missing ${entry.name}${SEALED_SUFFIX}`);
    present.delete(entry.name + SEALED_SUFFIX);
    sizes.set(entry.name, size);
  }
  const extra = [...present.keys()][0];
  if (extra !== undefined) throw mismatch(`unexpected ${extra} (not in the manifest)`);
  return sizes;
}

async function unsealShard(inDir: string, temp: string, entry: ManifestEntry, options: FileUnsealOptions): Promise<void> {
  const target = join(temp, entry.name);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const input = await openInputFile(join(inDir, entry.name + SEALED_SUFFIX));
  try {
    await writeFileAtomically(target, PLAINTEXT_FILE_MODE, async (out) => {
      const opened = await openSealedStream(input.stream);
      // Why: a shard renamed or swapped into this slot carries another name; one from another seal
      // (rolled back, or with another data key) carries another header. Both are refused before any byte is written.
      if (opened.header.kind !== 'file' || opened.header.name !== entry.name) {
        await opened.close();
        throw new SealedFileError('ERR_SEALED_NAME_MISMATCH', `${entry.name}${SEALED_SUFFIX} carries another file's name`);
      }
      if (headerDigest(opened.header) !== entry.header) {
        await opened.close();
        throw mismatch(`${entry.name}${SEALED_SUFFIX} is not the file the manifest lists`);
      }
      const result = await opened.unseal(out, { ...options, totalBytes: input.size });
      if (result.plaintextBytes !== entry.size) throw mismatch(`${entry.name} has another size than the manifest lists`);
    });
  } finally {
    input.stream.destroy();
  }
}

/**
 * Unseals a sealed directory into `outDir` (which must not exist, or be empty): verifies the manifest,
 * that exactly its shards are present, each shard's name and header, then every chunk. The plaintext
 * directory (mode 0700) appears only when all of it verified.
 */
export async function unsealDirectory(inDir: string, outDir: string, options: FileUnsealOptions): Promise<DirectoryResult> {
  // Names are per shard (checked against the manifest); only the key expectations apply to all files.
  const expect = { keyId: options.expect?.keyId, keyVersion: options.expect?.keyVersion };
  const manifest = await readManifest(inDir, { ...options, expect });
  const sealedSizes = await checkShardSet(inDir, manifest.entries);
  const total = [...sealedSizes.values()].reduce((sum, size) => sum + size, 0);
  return buildDirectoryAtomically(outDir, 0o700, async (temp) => {
    let done = 0;
    let plaintextBytes = 0;
    for (const entry of manifest.entries) {
      await unsealShard(inDir, temp, entry, { ...options, expect, onProgress: progressAt(options, done, total) });
      done += sealedSizes.get(entry.name) ?? 0;
      plaintextBytes += entry.size;
    }
    return { manifest: manifest.header, files: manifest.entries, plaintextBytes };
  });
}

/**
 * The header a sealed path or stream starts with (unauthenticated: a hint to fetch the data key).
 * For a sealed directory, the header of its manifest (`kind: 'manifest'`).
 */
export async function readSealedHeader(input: string | ByteSource): Promise<SealedHeader> {
  if (typeof input !== 'string') return readSealedStreamHeader(input);
  return (await isDirectory(input)) ? readSealedFileHeader(join(input, MANIFEST_FILE)) : readSealedFileHeader(input);
}

