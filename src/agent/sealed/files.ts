// Sealing and unsealing files on disk (docs/sealed-format.md §6): output goes to a temp file in the
// destination directory and is renamed into place only on success; on any error it is removed.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isSafeRelativeName, type SealedHeader } from './format.js';
import { SealedFileError } from './sealed-error.js';
import {
  readSealedStreamHeader,
  sealStreamAs,
  unsealStream,
  type SealOptions,
  type SealResult,
  type UnsealOptions,
  type UnsealResult,
} from './stream.js';

/** Read and write in pieces of this size: large enough for throughput, small against RSS. */
const IO_HIGH_WATER_MARK = 1024 * 1024;
/** Unsealed plaintext is private to its owner; sealed output is ciphertext and may be shared. */
export const PLAINTEXT_FILE_MODE = 0o600;
export const SEALED_FILE_MODE = 0o644;

export type FileSealOptions = Omit<SealOptions, 'totalBytes' | 'end'>;
export type FileUnsealOptions = Omit<UnsealOptions, 'totalBytes' | 'end'>;

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Opens a regular file for reading; a missing, unreadable or non-regular path is ERR_SEALED_INPUT_UNREADABLE. */
export async function openInputFile(path: string): Promise<{ stream: ReadStream; size: number }> {
  let handle;
  try {
    handle = await open(path, 'r');
    const info = await handle.stat();
    if (!info.isFile()) throw new SealedFileError('ERR_SEALED_INPUT_UNREADABLE', `input is not a regular file: ${path}`);
    return { stream: createReadStream('', { fd: handle, highWaterMark: IO_HIGH_WATER_MARK }), size: info.size };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    if (err instanceof SealedFileError) throw err;
    throw new SealedFileError('ERR_SEALED_INPUT_UNREADABLE', `cannot read input ${path} (${errnoOf(err) ?? 'error'})`, { cause: err });
  }
}

/** A hidden, unguessable sibling of `outPath`: same directory, so the final rename is atomic. */
export function tempSiblingPath(outPath: string): string {
  return join(dirname(outPath), `.${basename(outPath)}.${randomBytes(8).toString('hex')}.keyward-tmp`);
}

/**
 * Runs `write` against a fresh temp file next to `outPath` (created exclusively with `mode`), then
 * flushes it to disk and renames it to `outPath`. On any failure the temp file is removed, so a
 * partial output never appears under any name beyond the failed call.
 */
export async function writeFileAtomically<T>(outPath: string, mode: number, write: (out: WriteStream) => Promise<T>): Promise<T> {
  const temp = tempSiblingPath(outPath);
  const out = createWriteStream(temp, { flags: 'wx', mode, flush: true, highWaterMark: IO_HIGH_WATER_MARK });
  try {
    await once(out, 'ready');
  } catch (err) {
    throw new SealedFileError('ERR_SEALED_OUTPUT_UNWRITABLE', `cannot create output next to ${outPath} (${errnoOf(err) ?? 'error'})`, {
      cause: err,
    });
  }
  try {
    const result = await write(out);
    try {
      await rename(temp, outPath);
    } catch (err) {
      throw new SealedFileError('ERR_SEALED_OUTPUT_UNWRITABLE', `cannot move output into place at ${outPath} (${errnoOf(err) ?? 'error'})`, {
        cause: err,
      });
    }
    return result;
  } catch (err) {
    out.destroy();
    if (!out.closed) await once(out, 'close').catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Seals the regular file `inPath` into `outPath`. The header's name defaults to the input's base name (when it is a safe name). */
export async function sealFile(inPath: string, outPath: string, options: FileSealOptions): Promise<SealResult> {
  const base = basename(inPath);
  return sealFileAs(inPath, outPath, { ...options, name: options.name ?? (isSafeRelativeName(base) ? base : '') });
}

/** Seals one file with the given options as-is (the directory sealer passes its relative name). */
export async function sealFileAs(inPath: string, outPath: string, options: FileSealOptions): Promise<SealResult> {
  const input = await openInputFile(inPath);
  try {
    return await writeFileAtomically(outPath, SEALED_FILE_MODE, (out) =>
      sealStreamAs('file', input.stream, out, { ...options, totalBytes: input.size }),
    );
  } finally {
    input.stream.destroy();
  }
}

/**
 * Unseals `inPath` into `outPath` (mode 0600). Chunks are authenticated before they are written, and
 * the file appears under `outPath` only once the final chunk authenticated and the input ended there.
 */
export async function unsealFile(inPath: string, outPath: string, options: FileUnsealOptions): Promise<UnsealResult> {
  const input = await openInputFile(inPath);
  try {
    return await writeFileAtomically(outPath, PLAINTEXT_FILE_MODE, (out) =>
      unsealStream(input.stream, out, { ...options, totalBytes: input.size }),
    );
  } finally {
    input.stream.destroy();
  }
}

/** The header of the sealed file at `path` (structure only, unauthenticated). */
export async function readSealedFileHeader(path: string): Promise<SealedHeader> {
  const input = await openInputFile(path);
  try {
    return await readSealedStreamHeader(input.stream);
  } finally {
    input.stream.destroy();
  }
}

/** True when `path` is a directory (a sealed directory is read through its manifest). */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    throw new SealedFileError('ERR_SEALED_INPUT_UNREADABLE', `cannot read input ${path} (${errnoOf(err) ?? 'error'})`, { cause: err });
  }
}
