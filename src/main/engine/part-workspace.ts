// The on-disk side of a run: the part file, the hash that follows its written prefix, and the clock that makes written bytes durable.
import { rm } from 'node:fs/promises';
import type { DownloadRecord } from '../../shared/model.ts';
import type { DownloadDeps, DownloadSettings } from './download-settings.ts';
import { DurabilityClock } from './durability-clock.ts';
import { PrefixHash, writtenPrefix } from './file-hash.ts';
import { finalizeDownload } from './finalize.ts';
import { PartFile } from './part-file.ts';
import type { LiveSegment } from './range-request.ts';

/** What the workspace needs from its run: the live segments, and what a progress tick of the clock does. */
export interface PartWorkspaceHooks {
  segments: () => readonly LiveSegment[];
  onProgress: () => void;
}

/**
 * Opens, discards and closes the three together, in the order they depend on: the clock stops (with a last confirm)
 * before anything is closed, and the prefix hash, which reads the part file, is closed before the part file.
 */
export class PartWorkspace {
  readonly #record: DownloadRecord;
  readonly #deps: Pick<DownloadDeps, 'archive' | 'journal'>;
  /** Read when the clock starts, not before: the engine may change settings while runs go on. */
  readonly #settings: Pick<DownloadSettings, 'confirmIntervalMs' | 'progressIntervalMs'>;
  readonly #hooks: PartWorkspaceHooks;
  #part: PartFile | null = null;
  /** Hashes the part file's written prefix during the transfer; belongs to #part and goes with it. */
  #prefixHash: PrefixHash | null = null;
  #clock: DurabilityClock | null = null;
  /** The speed at the last progress tick: what a range's end judges the background hash by (0 before the first). */
  #lastBytesPerSecond = 0;

  constructor(record: DownloadRecord, deps: Pick<DownloadDeps, 'archive' | 'journal'>, settings: Pick<DownloadSettings, 'confirmIntervalMs' | 'progressIntervalMs'>, hooks: PartWorkspaceHooks) {
    this.#record = record;
    this.#deps = deps;
    this.#settings = settings;
    this.#hooks = hooks;
  }

  /** The open part file: null before open(), and after discard() or finalize(). */
  get part(): PartFile | null {
    return this.#part;
  }

  /** True from startClock() until the clock is stopped: until then no progress tick comes on its own. */
  get clockStarted(): boolean {
    return this.#clock !== null;
  }

  /** Opens (or creates) the part file with a new prefix hash for it, closing whatever was open before. */
  async open(size: number | null): Promise<PartFile> {
    await this.#closeFiles();
    const part = await PartFile.open(this.#deps.archive.partPath(this.#record.id), size);
    this.#prefixHash = new PrefixHash(part.path);
    this.#part = part;
    return part;
  }

  /** Deletes the part file on disk, so that the next open() starts from an empty file (opening never truncates). */
  async deleteFile(): Promise<void> {
    await rm(this.#deps.archive.partPath(this.#record.id), { force: true });
  }

  /** Starts fsyncing, recording offsets and pacing progress for the open part file; does nothing while a clock runs. */
  startClock(): void {
    if (this.#clock) return;
    this.#clock = new DurabilityClock({
      part: this.#part!,
      segments: this.#hooks.segments,
      save: (records) => this.#deps.journal.saveSegments(this.#record.id, records),
      confirmIntervalMs: this.#settings.confirmIntervalMs,
      progressIntervalMs: this.#settings.progressIntervalMs,
      onProgress: this.#hooks.onProgress,
      // Without a known size there is nothing to resume into: offsets are not worth recording.
      persist: this.#record.rangeSupported === true,
    });
  }

  /** For a progress event: the current speed (0 before the clock starts), at which the prefix hash then moves on. */
  progressTick(bytesThisRun: number): number {
    const bytesPerSecond = this.#clock ? this.#clock.bytesPerSecond(bytesThisRun) : 0;
    this.#lastBytesPerSecond = bytesPerSecond;
    void this.#advanceHash();
    return bytesPerSecond;
  }

  /**
   * A range has all its bytes written. Ranges of a throttled download end spread over half a second or more, in
   * no set order; each end may move the written prefix a whole range, and the hash takes it at once instead of at
   * the next progress tick. So by the last range's end the hash has usually read every range before it. The
   * promise (never rejected) is for tests; the run does not wait for the hash.
   */
  rangeFinished(): Promise<void> {
    return this.#advanceHash();
  }

  /** Moves the prefix hash on to the written prefix, judged by the speed at the last tick. */
  #advanceHash(): Promise<void> {
    return this.#prefixHash?.advance(writtenPrefix(this.#hooks.segments()), this.#lastBytesPerSecond) ?? Promise.resolve();
  }

  /** How far from the start the prefix hash has read the part file: what finalize will not hash again. */
  get hashedBytes(): number {
    return this.#prefixHash?.hashedBytes ?? 0;
  }

  /** Stops the clock with a last confirm; throws when a confirm failed, and the clock is then kept. */
  async stopClock(): Promise<void> {
    await this.#clock?.stop();
    this.#clock = null;
  }

  /** Stops the clock of a run that is ending anyway: a failed last confirm is not what the run ends with. */
  async stopClockIgnoringFailure(): Promise<void> {
    await this.#clock?.stop().catch(() => {});
    this.#clock = null;
  }

  /** Throws away everything fetched for a file that changed: the clock, the prefix hash, the part file and its bytes on disk. */
  async discard(): Promise<void> {
    await this.stopClock();
    await this.#closeFiles();
    await this.deleteFile();
  }

  /** Stops the clock, proves, hashes and places the part file (see finalize.ts) and closes it. */
  async finalize(expectedSha256: string | null = null): Promise<{ finalPath: string; sha256: string }> {
    // The clock's last confirm (an fdatasync and a journal write, 15-40 ms) and the hash do not need each other:
    // they run side by side, and the file is placed only once both are done. Its failure still fails finalize
    // (finalizeDownload awaits it); the catch only keeps it from counting as unhandled when a check fails first.
    const stopping = this.stopClock();
    stopping.catch(() => {});
    // finalizeDownload finishes the prefix hash (which closes it); only the part file is left to close.
    const result = await finalizeDownload(this.#record, this.#part!, this.#hooks.segments(), this.#deps.archive, this.#prefixHash, stopping, expectedSha256);
    this.#prefixHash = null;
    await this.#part!.close();
    this.#part = null;
    return result;
  }

  /**
   * At the end of a run, closes whatever is still open. finalize() and the run's settling have stopped the clock
   * already; should one still run, its failure must not replace the run's outcome or leave the files open.
   */
  async close(): Promise<void> {
    await this.stopClockIgnoringFailure();
    await this.#closeFiles();
  }

  /** Closes the prefix hash, then the part file it reads, and forgets both. */
  async #closeFiles(): Promise<void> {
    await this.#prefixHash?.close();
    this.#prefixHash = null;
    await this.#part?.close().catch(() => {});
    this.#part = null;
  }
}
