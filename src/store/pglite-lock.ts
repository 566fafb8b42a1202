// PGlite is an embedded, single-process database: two processes on one data directory would corrupt it.
// A lock file holding the owner's pid keeps a second `keyward serve` (or `kek rotate`) out; a lock left
// by a killed process (its pid gone) is taken over.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, constants } from 'node:fs';
import { join } from 'node:path';
import { ServiceError } from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data directory's lock; returns the function that releases it. */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, 'keyward.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new ServiceError(
          'ERR_DB_UNAVAILABLE',
          `The embedded database in ${dir} is in use by process ${owner}; stop it first, or use the running service's API (e.g. POST /v1/kek/rotate), or KEYWARD_DATABASE_URL for several processes.`,
        );
      }
      unlinkSync(path);
    }
  }
  throw new ServiceError('ERR_DB_UNAVAILABLE', `The embedded database lock in ${dir} could not be taken.`);
}
