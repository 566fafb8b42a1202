// The typed error of the sealed-file format (docs/sealed-format.md §7): one family, codes ERR_SEALED_*.
import { KeywardError, isKeywardError, type ErrorCode, type KeywardErrorOptions } from '../../errors.js';

/** Codes raised by agent/sealed. `ERR_SEALED_RECORD_INVALID` belongs to keys/ (KEK-sealed rows), not here. */
export type SealedErrorCode = Exclude<Extract<ErrorCode, `ERR_SEALED_${string}`>, 'ERR_SEALED_RECORD_INVALID'>;

/** A sealed file could not be written or opened; `code` says why, `cause` holds internal detail. */
export class SealedFileError extends KeywardError {
  declare readonly code: SealedErrorCode;
  constructor(code: SealedErrorCode, message: string, options: KeywardErrorOptions = {}) {
    super(code, message, options);
  }
}

export function isSealedFileError(value: unknown): value is SealedFileError {
  return value instanceof SealedFileError;
}

/**
 * Maps anything thrown while streaming to a SealedFileError: our own errors pass through, an abort
 * becomes ERR_SEALED_ABORTED, any other failure (disk, pipe) ERR_SEALED_IO_FAILED with the original as cause.
 */
export function toSealedFileError(err: unknown, what: string): KeywardError {
  if (isKeywardError(err)) return err;
  if (err instanceof Error && (err.name === 'AbortError' || (err as NodeJS.ErrnoException).code === 'ABORT_ERR')) {
    return new SealedFileError('ERR_SEALED_ABORTED', `${what} was aborted`, { cause: err });
  }
  return new SealedFileError('ERR_SEALED_IO_FAILED', `${what} failed: an input or output stream failed`, { cause: err });
}
