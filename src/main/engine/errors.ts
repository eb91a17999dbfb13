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

/** True for the error an AbortSignal raises when the user paused or cancelled. */
export function isAbort(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  const code = (error as { code?: string } | null)?.code;
  return name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR';
}
