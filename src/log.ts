// Structured JSON logs (pino). Secrets are redacted by path; key material is never handed to a logger.
import pino, { type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './config.js';

/** Paths that may carry secrets in request/response/error objects; their values are replaced. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'plaintext',
  '*.plaintext',
  'jwe',
  '*.jwe',
  'pin',
  '*.pin',
  'material',
  '*.material',
  'dataKey',
  '*.dataKey',
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'keyward' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

export type { Logger };

/** Command-line tools log to stderr so stdout stays theirs (e.g. `--json`). */
export function stderrDestination(): DestinationStream {
  return pino.destination({ fd: 2, sync: true });
}
