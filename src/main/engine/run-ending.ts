// How a run ends: verified and archived (done), or paused or failed, with the end state recorded even when the disk is full.
import type { DownloadRecord } from '../../shared/model.ts';
import { StorageError, isAbort } from './errors.ts';
import type { DownloadEvent } from './events.ts';
import type { DownloadDeps, DownloadOutcome } from './download-settings.ts';
import type { PartWorkspace } from './part-workspace.ts';

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;

/** An event as a run hands it over; the run adds the download id, file id and timestamp. */
export type RunEvent = DistributiveOmit<DownloadEvent, 'downloadId' | 'fileId' | 'timestamp'>;

/** What ending a run needs from the run itself. */
export interface RunEndingHooks {
  setState: (state: DownloadRecord['state'], error: string | null) => void;
  emit: (event: RunEvent) => void;
  emitProgress: () => void;
  /** What the run did so far, as its end events report it; read when the event is made. */
  tally: () => { bytesDownloaded: number; durationMs: number; retryCount: number; requestCount: number };
}

export class RunEnding {
  readonly #record: DownloadRecord;
  readonly #deps: Pick<DownloadDeps, 'archive' | 'redact' | 'releaseReserve'>;
  readonly #signal: AbortSignal;
  readonly #workspace: PartWorkspace;
  readonly #hooks: RunEndingHooks;

  constructor(record: DownloadRecord, deps: Pick<DownloadDeps, 'archive' | 'redact' | 'releaseReserve'>, signal: AbortSignal, workspace: PartWorkspace, hooks: RunEndingHooks) {
    this.#record = record;
    this.#deps = deps;
    this.#signal = signal;
    this.#workspace = workspace;
    this.#hooks = hooks;
  }

  /** Verifies (against `expectedSha256` too, when given) and archives a run whose every byte is written, and tells listeners it is done. */
  async finalize(expectedSha256: string | null): Promise<void> {
    this.#hooks.setState('verifying', null);
    const result = await this.#workspace.finalize(expectedSha256);
    Object.assign(this.#record, { state: 'done', error: null, completedAt: new Date().toISOString(), finalPath: result.finalPath, sha256: result.sha256 });
    this.#deps.archive.commit(this.#record);
    // Only now, with the catalog pointing at the archived file, may the part file go (a crash before this repeats finalize).
    await this.#deps.archive.release(this.#record.id);
    this.#hooks.emitProgress();
    this.#hooks.emit({ type: 'state', state: 'done', error: null });
    this.#hooks.emit({ type: 'done', finalPath: result.finalPath, sha256: result.sha256, sizeBytes: this.#record.sizeBytes ?? 0, ...this.#hooks.tally() });
  }

  /** Turns how the run ended into a final state: paused (user), or failed with one plain sentence. */
  async settle(error: unknown): Promise<DownloadOutcome> {
    // On a full disk the last confirm and the end state need a few pages of the catalog: free the reserve first.
    if (error instanceof StorageError && error.code === 'ENOSPC') await this.#deps.releaseReserve?.().catch(() => {});
    await this.#workspace.stopClockIgnoringFailure();
    if (this.#signal.aborted && (isAbort(error) || error === this.#signal.reason)) {
      this.#trySetState('paused', null);
      return { state: 'paused' };
    }
    const message = this.#deps.redact(error instanceof Error ? error.message : String(error));
    if (error instanceof StorageError) {
      // The disk, not the download, is the problem: what is confirmed stays, and the same command resumes.
      this.#trySetState('paused', message);
      this.#emitError(message);
      return { state: 'paused', message, code: error.code };
    }
    this.#trySetState('failed', message);
    this.#emitError(message);
    return { state: 'failed', message };
  }

  /** The error event, with what the run did (the request count goes with `done` only). */
  #emitError(message: string): void {
    const { bytesDownloaded, durationMs, retryCount } = this.#hooks.tally();
    this.#hooks.emit({ type: 'error', message, bytesDownloaded, durationMs, retryCount });
  }

  /** Records the end state if the catalog can still be written (a full disk may refuse even that). */
  #trySetState(state: DownloadRecord['state'], error: string | null): void {
    try {
      this.#hooks.setState(state, error);
    } catch (failure) {
      this.#record.state = state;
      this.#record.error = error;
      this.#hooks.emit({ type: 'state', state, error: `${error ?? state} (the catalog could not record it: ${(failure as Error).message})` });
    }
  }
}
