// Filehaul's structured log: pino JSON lines in <logsDir>/filehaul.log, rotated by size, with the API key kept out of every byte.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';
import { RotatingFile } from './rotating-file.ts';

type LogFields = Record<string, unknown>;
type LevelName = 'debug' | 'info' | 'warn' | 'error';

interface LogMethod {
  (fields: LogFields, message?: string): void;
  (message: string): void;
}

/** What Filehaul logs through: pino's call shapes, at the levels it uses. */
export interface FilehaulLogger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  child(bindings: LogFields): FilehaulLogger;
}

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
  level: string;
  /** pino, once loaded; until then lines wait in `queue`. */
  pino: Logger | null;
  queue: QueuedLine[];
  closed: boolean;
  loadTimer: NodeJS.Timeout | null;
  onExit: () => void;
}

interface QueuedLine {
  level: LevelName;
  bindings: LogFields | null;
  fields: LogFields;
  message: string | undefined;
}

/**
 * pino and its ~25 modules take ~25 ms to load, on the path of every command's start before its first request. So
 * the logger starts as a queue, and pino loads this long after (when the process is waiting on the network), or at
 * once when the queue grows long, the log is closed, or the process exits. A queued line keeps the time it was logged.
 */
const PINO_LOAD_DELAY_MS = 150;
const MAX_QUEUED_LINES = 500;

const requireModule = createRequire(import.meta.url);
const states = new WeakMap<FilehaulLogger, LoggerState>();

export function createLogger(logsDir: string, options: LoggerOptions = {}): FilehaulLogger {
  let warned = false;
  const onWriteError = options.onWriteError ?? ((error: Error) => {
    if (warned) return;
    warned = true;
    process.stderr.write(`filehaul: cannot write the log in ${logsDir} (${error.message}); log lines are dropped\n`);
  });
  const file = new RotatingFile(path.join(logsDir, 'filehaul.log'), { maxBytes: options.maxBytes ?? 10 * 1024 * 1024, keep: options.keep ?? 5, onWriteError });
  const state: LoggerState = { file, secrets: [], level: options.level ?? 'info', pino: null, queue: [], closed: false, loadTimer: null, onExit: () => loadPino(state) };
  for (const secret of options.secrets ?? []) addSecretTo(state, secret);
  state.loadTimer = setTimeout(() => loadPino(state), PINO_LOAD_DELAY_MS);
  state.loadTimer.unref();
  // A process that ends without closing the log (an uncaught error) still writes what waited in the queue.
  process.once('exit', state.onExit);
  const logger = new QueueingLogger(state, null);
  states.set(logger, state);
  return logger;
}

/** Loads pino (once) and writes the queued lines through it, each with the time it was logged. */
function loadPino(state: LoggerState): Logger {
  stopWaitingForPino(state);
  if (state.pino) return state.pino;
  const pino = requireModule('pino') as typeof import('pino').default;
  const destination = {
    // pino hands over one complete line per call, so a secret can never be split across two writes.
    write: (line: string) => state.file.write(scrub(line, state.secrets)),
    flush: (callback: (error?: Error) => void) => callback(),
  };
  state.pino = pino(
    {
      level: state.level,
      base: { pid: process.pid },
      // The article's field name, ISO-8601 UTC. A mixin rather than pino's `timestamp` so an event can pass its own time.
      timestamp: false,
      mixin: () => ({ timestamp: new Date().toISOString() }),
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    destination,
  );
  const queued = state.queue.splice(0);
  for (const line of queued) {
    const target = line.bindings ? state.pino.child(line.bindings) : state.pino;
    target[line.level](line.fields, line.message);
  }
  return state.pino;
}

/** Drops the pending load: its timer and the exit hook that writes the queue of a process ending without close. */
function stopWaitingForPino(state: LoggerState): void {
  if (state.loadTimer) clearTimeout(state.loadTimer);
  state.loadTimer = null;
  process.off('exit', state.onExit);
}

/** The logger handed out: queues lines until pino is loaded, then passes them straight through (children alike). */
class QueueingLogger implements FilehaulLogger {
  readonly #state: LoggerState;
  readonly #bindings: LogFields | null;
  #pinoChild: Logger | null = null;
  readonly debug: LogMethod = (a: LogFields | string, b?: string) => this.#log('debug', a, b);
  readonly info: LogMethod = (a: LogFields | string, b?: string) => this.#log('info', a, b);
  readonly warn: LogMethod = (a: LogFields | string, b?: string) => this.#log('warn', a, b);
  readonly error: LogMethod = (a: LogFields | string, b?: string) => this.#log('error', a, b);

  constructor(state: LoggerState, bindings: LogFields | null) {
    this.#state = state;
    this.#bindings = bindings;
  }

  child(bindings: LogFields): FilehaulLogger {
    return new QueueingLogger(this.#state, { ...this.#bindings, ...bindings });
  }

  #log(level: LevelName, a: LogFields | string, b: string | undefined): void {
    const state = this.#state;
    if (state.closed) return;
    const [fields, message] = typeof a === 'string' ? [{}, a] : [a, b];
    if (state.pino) {
      this.#pinoChild ??= this.#bindings ? state.pino.child(this.#bindings) : state.pino;
      this.#pinoChild[level](fields, message);
      return;
    }
    // The mixin stamps a line when pino writes it; a queued line carries the time it was logged instead.
    state.queue.push({ level, bindings: this.#bindings, fields: { timestamp: new Date().toISOString(), ...fields }, message });
    if (state.queue.length >= MAX_QUEUED_LINES) loadPino(state);
  }
}

/** Adds a secret to scrub from now on (a key entered after start-up, in the desktop app). Children share it. */
export function addLogSecret(logger: FilehaulLogger, secret: string): void {
  // Lines still queued are scrubbed when written, so they too lose a secret added now.
  const state = states.get(logger);
  if (state) addSecretTo(state, secret);
}

/** Flushes and closes the file. Lines logged afterwards are dropped; calling it twice is harmless. */
export function closeLogger(logger: FilehaulLogger): void {
  const state = states.get(logger);
  if (!state || state.closed) return;
  // pino is loaded now only if something still waits to be written; a command that logged nothing never loads it.
  if (state.queue.length > 0 || state.pino) loadPino(state).flush();
  stopWaitingForPino(state);
  state.closed = true;
  state.file.close();
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
