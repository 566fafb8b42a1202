// Reads the files of KEYWARD_COLLATERAL_DIR (air-gapped sites, the dev simulator): every regular file below
// the directory, hidden ones excluded, in a stable order. Recognizing them is the caller's job.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ServiceError } from '../errors.js';

export interface CollateralFile {
  /** Path relative to the directory. */
  readonly name: string;
  readonly data: Uint8Array;
}

const MAX_DEPTH = 8;
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_FILES = 10_000;

function walk(root: string, dir: string, depth: number, out: string[]): void {
  if (depth > MAX_DEPTH) return;
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) walk(root, path, depth + 1, out);
    else if (stat.isFile()) out.push(path);
    if (out.length > MAX_FILES) throw new ServiceError('ERR_CONFIG_INVALID', `KEYWARD_COLLATERAL_DIR holds more than ${MAX_FILES} files.`);
  }
}

/** Every file below `dir`; an unreadable directory is ERR_CONFIG_INVALID. Files over 16 MiB are left out. */
export function readCollateralDirectory(dir: string): { files: CollateralFile[]; tooLarge: string[] } {
  const paths: string[] = [];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    walk(dir, dir, 0, paths);
  } catch (cause) {
    if (cause instanceof ServiceError) throw cause;
    throw new ServiceError('ERR_CONFIG_INVALID', `KEYWARD_COLLATERAL_DIR=${dir} is not a readable directory.`, { cause });
  }
  const files: CollateralFile[] = [];
  const tooLarge: string[] = [];
  for (const path of paths) {
    const name = relative(dir, path);
    if (statSync(path).size > MAX_FILE_BYTES) {
      tooLarge.push(name);
      continue;
    }
    files.push({ name, data: new Uint8Array(readFileSync(path)) });
  }
  return { files, tooLarge };
}
