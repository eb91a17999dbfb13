// The download's heartbeat: fsyncs written bytes and records their offsets about once a second, and paces progress events.
import type { SegmentRecord } from '../../shared/model.ts';
import type { PartFile } from './part-file.ts';
import type { LiveSegment } from './range-request.ts';

export interface DurabilityClockOptions {
  part: PartFile;
  segments: () => readonly LiveSegment[];
  save: (segments: SegmentRecord[]) => void;
  confirmIntervalMs: number;
  progressIntervalMs: number;
  onProgress: () => void;
  /** false when there is nothing to resume into (no size known, no Range): offsets are not recorded. */
  persist: boolean;
}

/** Speed is averaged over this window: long enough to smooth bursts, short enough to show a stall within seconds. */
const SPEED_WINDOW_MS = 3000;

export class DurabilityClock {
  readonly #options: DurabilityClockOptions;
  readonly #confirmTimer: NodeJS.Timeout | null;
  readonly #progressTimer: NodeJS.Timeout;
  #confirming: Promise<void> | null = null;
  #failure: unknown = null;
  #samples: { at: number; bytes: number }[] = [];

  constructor(options: DurabilityClockOptions) {
    this.#options = options;
    this.#confirmTimer = options.persist ? setInterval(() => void this.confirm().catch(() => {}), options.confirmIntervalMs) : null;
    this.#progressTimer = setInterval(options.onProgress, options.progressIntervalMs);
    this.#confirmTimer?.unref();
    this.#progressTimer.unref();
  }

  /**
   * Records as confirmed only what was written before the fsync began: a byte counts once it is on disk,
   * so after a crash the journal never points past real data (it may lag by up to one interval).
   */
  async confirm(): Promise<void> {
    if (this.#confirming) return this.#confirming;
    this.#confirming = (async () => {
      try {
        const snapshot = this.#options.segments().map((segment) => [segment, segment.written] as const);
        await this.#options.part.sync();
        for (const [segment, written] of snapshot) segment.confirmed = Math.max(segment.confirmed, Math.min(written, segment.end));
        this.#options.save(this.#options.segments().map((segment) => ({ start: segment.start, end: segment.end, confirmedOffset: segment.confirmed })));
      } catch (error) {
        this.#failure ??= error;
        throw error;
      } finally {
        this.#confirming = null;
      }
    })();
    return this.#confirming;
  }

  /** Bytes per second over the recent window, given the running total of bytes received. */
  bytesPerSecond(totalBytes: number): number {
    const now = Date.now();
    this.#samples.push({ at: now, bytes: totalBytes });
    while (this.#samples.length > 2 && now - this.#samples[1].at >= SPEED_WINDOW_MS) this.#samples.shift();
    const oldest = this.#samples[0];
    const elapsed = now - oldest.at;
    return elapsed > 0 ? ((totalBytes - oldest.bytes) * 1000) / elapsed : 0;
  }

  /** Stops the timers and confirms one last time, so a pause or failure keeps every byte already written. */
  async stop(): Promise<void> {
    if (this.#confirmTimer) clearInterval(this.#confirmTimer);
    clearInterval(this.#progressTimer);
    if (this.#confirming) await this.#confirming.catch(() => {});
    if (this.#options.persist) await this.confirm();
    if (this.#failure) throw this.#failure;
  }
}
