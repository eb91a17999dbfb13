// Filehaul's structured log: pino JSON lines in <logsDir>/filehaul.log, rotated by size, with the API key kept out of every byte.
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { RotatingFile } from './rotating-file.ts';

export type FilehaulLogger = Logger;

export interface LoggerOptions {
  /** pino level name; default 'info'. */
  level?: string;
  /** Rotate when the live file would pass this size; default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept (filehaul.1.log … filehaul.K.log); default 5. */
  keep?: number;
  /** Strings (the API key) that must never reach the file, whatever field or message carries them. */
  secrets?: readonly string[];
  /** Told when a line could not be written (disk full…); default: one note on stderr, then silence. */
  onWriteError?: (error: Error) => void;
}

/** Replaces what a secret looks like in a line; shorter strings would mangle ordinary text, and no key is that short. */
const MIN_SECRET_LENGTH = 8;
const REDACTED = '[redacted]';

/** Field names that carry credentials, wherever a caller puts them (top level, one level down, or in headers). */
const REDACT_PATHS = [
  'apiKey', '*.apiKey', 'api_key', '*.api_key',
  'authorization', '*.authorization', 'headers.Authorization', '*.headers.authorization', '*.headers.Authorization',
  '["x-api-key"]', '*["x-api-key"]', 'headers["X-Api-Key"]', '*.headers["x-api-key"]', '*.headers["X-Api-Key"]',
];

interface LoggerState {
  file: RotatingFile;
  secrets: string[];
}

const states = new WeakMap<Logger, LoggerState>();

export function createLogger(logsDir: string, options: LoggerOptions = {}): FilehaulLogger {
  let warned = false;
  const onWriteError = options.onWriteError ?? ((error: Error) => {
    if (warned) return;
    warned = true;
    process.stderr.write(`filehaul: cannot write the log in ${logsDir} (${error.message}); log lines are dropped\n`);
  });
  const file = new RotatingFile(path.join(logsDir, 'filehaul.log'), { maxBytes: options.maxBytes ?? 10 * 1024 * 1024, keep: options.keep ?? 5, onWriteError });
  const state: LoggerState = { file, secrets: [] };
  for (const secret of options.secrets ?? []) addSecretTo(state, secret);
  const destination = {
    // pino hands over one complete line per call, so a secret can never be split across two writes.
    write: (line: string) => file.write(scrub(line, state.secrets)),
    flush: (callback: (error?: Error) => void) => callback(),
  };
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      // The article's field name, ISO-8601 UTC. A mixin rather than pino's `timestamp` so an event can pass its own time.
      timestamp: false,
      mixin: () => ({ timestamp: new Date().toISOString() }),
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    destination,
  );
  states.set(logger, state);
  return logger;
}

/** Adds a secret to scrub from now on (a key entered after start-up, in the desktop app). Children share it. */
export function addLogSecret(logger: FilehaulLogger, secret: string): void {
  const state = states.get(logger);
  if (state) addSecretTo(state, secret);
}

/** Flushes and closes the file. Lines logged afterwards are dropped; calling it twice is harmless. */
export function closeLogger(logger: FilehaulLogger): void {
  logger.flush();
  states.get(logger)?.file.close();
}

function addSecretTo(state: LoggerState, secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH) return;
  // JSON may escape characters of a secret; look for both spellings.
  for (const spelling of [secret, JSON.stringify(secret).slice(1, -1)]) {
    if (!state.secrets.includes(spelling)) state.secrets.push(spelling);
  }
  // Longest first, so a secret that contains another is replaced whole.
  state.secrets.sort((a, b) => b.length - a.length);
}

function scrub(line: string, secrets: readonly string[]): string {
  let result = line;
  for (const secret of secrets) if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  return result;
}
