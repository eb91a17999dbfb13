// Failure kinds of the engine: each tells the download loop what to do next (retry, start over, or give up on the file).

/** A request failed in a way that may heal: wait and send it again. */
export class RetryableError extends Error {
  /** What the server asked us to wait, in ms, when it said (Retry-After); obeyed even beyond the backoff cap. */
  readonly retryAfterMs: number | null;
  readonly status: number | null;
  readonly requestId: string | null;
  constructor(message: string, options: { retryAfterMs?: number | null; status?: number | null; requestId?: string | null; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'RetryableError';
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.status = options.status ?? null;
    this.requestId = options.requestId ?? null;
  }
}

/** The file cannot be downloaded as asked (400/401/403/404/413, not downloadable, bad size): fail it with this message. */
export class FatalError extends Error {
  readonly status: number | null;
  readonly requestId: string | null;
  constructor(message: string, options: { status?: number | null; requestId?: string | null; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'FatalError';
    this.status = options.status ?? null;
    this.requestId = options.requestId ?? null;
  }
}

/** The remote file changed (or stopped honouring Range) under a partial download: discard progress and start over. */
export class RestartRequired extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestartRequired';
  }
}

/**
 * Writing to the disk failed (full, read-only, quota, I/O error). Retrying the request cannot help, and the bytes
 * already confirmed are still good: the download pauses with this message and resumes when run again.
 */
export class StorageError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StorageError';
    this.code = code;
  }
}

const STORAGE_ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full: it goes on once space is freed (a stopped run resumes with the same command)',
  EDQUOT: 'the disk quota is used up: free some space, then run the same command again to resume',
  EROFS: 'the data directory is on a read-only file system',
  EFBIG: 'the file system cannot hold a file this large',
  EIO: 'the disk reported an I/O error',
  EACCES: 'no permission to write the part file',
  EPERM: 'no permission to write the part file',
};

/** Wraps a failed file write in a StorageError with plain advice; anything else passes through. */
export function storageErrorFrom(error: unknown, what: string): unknown {
  const code = (error as { code?: string } | null)?.code;
  if (!code || !(code in STORAGE_ADVICE)) return error;
  return new StorageError(`cannot write ${what} (${code}): ${STORAGE_ADVICE[code]}`, code, { cause: error });
}

/** True for the error an AbortSignal raises when the user paused or cancelled. */
export function isAbort(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  const code = (error as { code?: string } | null)?.code;
  return name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR';
}
