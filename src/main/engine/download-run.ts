// One download from first request to verified archive file: probe, plan segments, run connections, split, retry, restart.
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { DownloadRecord } from '../../shared/model.ts';
import { FatalError, RestartRequired, RetryableError, StorageError, isAbort } from './errors.ts';
import type { DownloadEvent } from './events.ts';
import { discardBody, type HttpResponse, type RequestWait } from './http/client.ts';
import { headerValue } from './http/retry-policy.ts';
import { PartFile } from './part-file.ts';
import { checkRangeResponse, requestRange, streamIntoSegment, type ByteRateLimit, type LiveSegment, type Validators } from './range-request.ts';
import { planSegments, segmentCount } from './segments.ts';
import { nextAssignment } from './segment-assignment.ts';
import type { DownloadSource } from './source.ts';
import { DurabilityClock } from './durability-clock.ts';
import { PrefixHash, writtenPrefix } from './file-hash.ts';
import { finalizeDownload } from './finalize.ts';
import { applyDetails, hasValidator, learnFromResponse, liveSegment, persistRecord, toRecord, validatorsOf } from './download-record.ts';
import { DEFAULT_DOWNLOAD_SETTINGS, type DownloadDeps, type DownloadOutcome, type DownloadSettings } from './download-settings.ts';
import { retryUntilDone } from './retry-loop.ts';
import { HedgePlanner, streamWithHedge } from './silence-hedge.ts';

export { DEFAULT_DOWNLOAD_SETTINGS, type DownloadDeps, type DownloadOutcome, type DownloadSettings } from './download-settings.ts';
export { toRecord } from './download-record.ts';

/** Runs one download to an end state. The record is updated in place and in the journal as it goes. */
export class DownloadRun {
  readonly #record: DownloadRecord;
  readonly #source: DownloadSource;
  readonly #deps: DownloadDeps;
  readonly #settings: DownloadSettings;
  readonly #signal: AbortSignal;
  readonly #startedAt = Date.now();
  #segments: LiveSegment[] = [];
  #part: PartFile | null = null;
  /** Hashes the part file's written prefix during the transfer; belongs to #part and goes with it. */
  #prefixHash: PrefixHash | null = null;
  #clock: DurabilityClock | null = null;
  #bytesThisRun = 0;
  #retryCount = 0;
  #requestCount = 0;
  #steals = 0;
  #restartsThisRun = 0;
  /** Asks again for the rest of a silent connection's range (see silence-hedge.ts). */
  readonly #hedges: HedgePlanner;
  /** How long the probe took to answer: the response time of the first segment's request. */
  #probeResponseMs = 0;
  /** The content URL, asked of the source once: progress ticks only need it to look up the endpoint's allowance. */
  #contentUrl: string | null = null;
  /** Why and until when the download is held back (rate limit, Retry-After, cool-down); null while it flows. */
  #waiting: { reason: string; until: number | null } | null = null;
  readonly #waitListener = (wait: { reason: string; until: number | null } | null) => {
    this.#waiting = wait;
    // Before the first response no clock ticks: say at once that the download waits (and until when), not stalls.
    if (wait && !this.#clock) this.#emitProgress();
  };

  constructor(record: DownloadRecord, source: DownloadSource, deps: DownloadDeps, settings: DownloadSettings, signal: AbortSignal) {
    this.#record = record;
    this.#source = source;
    this.#deps = deps;
    this.#settings = settings;
    this.#signal = signal;
    this.#hedges = new HedgePlanner({
      http: deps.http,
      source,
      floorMs: settings.hedgeAfterMs ?? DEFAULT_DOWNLOAD_SETTINGS.hedgeAfterMs ?? 0,
      connections: () => this.#settings.connections,
      streaming: () => this.#segments.filter((segment) => segment.streaming).length,
      bandwidth: deps.bandwidth,
      onRequest: () => void this.#requestCount++,
      onTakeover: (silentMs) => {
        this.#retryCount++;
        const reason = `no data for ${silentMs} ms: the rest of the range was asked for again and the new request answered first`;
        this.#emit({ type: 'retry', attempt: 0, delayMs: 0, reason, status: null, requestId: null, retryCount: this.#retryCount });
      },
    });
  }

  async run(): Promise<DownloadOutcome> {
    try {
      this.#setState('downloading', null);
      await this.#downloadWithRestarts();
      if (this.#signal.aborted) throw this.#signal.reason ?? new DOMException('paused', 'AbortError');
      await this.#finalize();
      return { state: 'done', record: this.#record };
    } catch (error) {
      return await this.#settle(error);
    } finally {
      await this.#clock?.stop();
      await this.#prefixHash?.close();
      await this.#part?.close().catch(() => {});
    }
  }

  async #downloadWithRestarts(): Promise<void> {
    for (;;) {
      try {
        await this.#prepare();
        this.#emit({ type: 'start', filename: this.#record.filename, sizeBytes: this.#record.sizeBytes, resumedBytes: this.#bytesPresent() });
        if (this.#segments.length > 0 && this.#segments.every((segment) => segment.written >= segment.end)) return;
        if (this.#segments.length === 0) await this.#probeAndDownload();
        else await this.#runConnections(null);
        return;
      } catch (error) {
        if (!(error instanceof RestartRequired)) throw error;
        await this.#restart(error.message);
      }
    }
  }

  /** Loads what an earlier run left (segments, part file) or clears the way for a fresh start. */
  async #prepare(): Promise<void> {
    const record = this.#record;
    const saved = record.rangeSupported ? this.#deps.journal.loadSegments(record.id) : [];
    const resumable = saved.length > 0 && record.sizeBytes !== null;
    if (resumable && !hasValidator(this.#record)) await this.#checkUnchangedWithoutValidators();
    if (resumable) {
      this.#part = await this.#openPart(record.sizeBytes);
      if ((await this.#part.size()) !== record.sizeBytes) throw new RestartRequired('the part file is missing or has the wrong size');
      this.#segments = saved.map((segment) => liveSegment(segment));
      return;
    }
    if (this.#source.kind === 'files-api' || record.sizeBytes === null || record.filename === null) {
      const details = await this.#withRetries(() => this.#source.describe(this.#deps.http, this.#signal));
      if (details) {
        applyDetails(this.#record, details);
        this.#persistRecord();
      }
    }
    this.#segments = [];
  }

  /** Without ETag or Last-Modified, a Files API resume is trusted only when size and creation time are unchanged. */
  async #checkUnchangedWithoutValidators(): Promise<void> {
    if (this.#source.kind !== 'files-api') return;
    const details = await this.#withRetries(() => this.#source.describe(this.#deps.http, this.#signal));
    if (!details) return;
    if (details.sizeBytes !== this.#record.sizeBytes || details.createdAt !== this.#record.createdAt) {
      applyDetails(this.#record, details);
      this.#persistRecord();
      throw new RestartRequired('the remote file changed (size or creation time differs and there is no ETag to resume against)');
    }
  }

  /** First content request: `Range: bytes=0-`. A 206 means segments; a 200 means one stream. */
  async #probeAndDownload(): Promise<void> {
    const expectedTotal = this.#record.sizeBytes;
    const none: Validators = { etag: null, lastModified: null };
    await rm(this.#deps.archive.partPath(this.#record.id), { force: true });
    const probe = await this.#withRetries(async () => {
      this.#requestCount++;
      const timing = this.#timedWaitListener();
      const { response } = await requestRange(this.#deps.http, this.#source, 0, null, none, this.#signal, timing.onWait);
      this.#probeResponseMs = timing.elapsed();
      if (response.status === 416 && /\/0\s*$/.test(headerValue(response.headers['content-range']) ?? '')) {
        // An empty file has no byte 0 to ask for: RFC 9110 answers 416 with `bytes */0`.
        discardBody(response.body);
        return { status: 200, headers: { ...response.headers, 'content-length': '0' }, body: emptyBody() } as HttpResponse;
      }
      if (response.status !== 200) await checkRangeResponse(response, { start: 0, end: null, total: expectedTotal }, none, false);
      return response;
    });
    learnFromResponse(this.#record, this.#source, probe);
    if (probe.status === 206) {
      const total = Number(/\/(\d+)\s*$/.exec(headerValue(probe.headers['content-range']) ?? '')?.[1]);
      this.#record.sizeBytes = total;
      this.#record.rangeSupported = true;
      this.#part = await this.#openPart(total);
      const count = segmentCount(total, this.#settings.connections, this.#settings.minSplitBytes);
      this.#segments = planSegments(total, count).map((range) => liveSegment({ start: range.start, end: range.end, confirmedOffset: range.start }));
      this.#persistRecord();
      this.#saveSegments();
      await this.#runConnections(probe);
      return;
    }
    await this.#singleStream(probe);
  }

  /** The server ignores Range: one stream from byte 0; a break starts it over (nothing else is possible). */
  async #singleStream(first: HttpResponse): Promise<void> {
    const lengthHeader = headerValue(first.headers['content-length']);
    const announced = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
    const known = this.#record.sizeBytes;
    if (known !== null && announced !== null && known !== announced) {
      discardBody(first.body);
      throw new FatalError(`the server sends ${announced} bytes but the file has ${known}`);
    }
    const total = known ?? announced;
    this.#record.sizeBytes = total;
    this.#record.rangeSupported = false;
    this.#persistRecord();
    this.#part = await this.#openPart(total);
    const segment = liveSegment({ start: 0, end: total ?? Number.MAX_SAFE_INTEGER, confirmedOffset: 0 });
    this.#segments = [segment];
    this.#startClock();
    let response: HttpResponse | null = first;
    await this.#withRetries(async () => {
      if (!response) {
        segment.offset = segment.written = segment.confirmed = 0;
        this.#requestCount++;
        response = (await requestRange(this.#deps.http, this.#source, 0, null, { etag: null, lastModified: null }, this.#signal, this.#waitListener)).response;
        if (response.status !== 200) await checkRangeResponse(response, { start: 0, end: null, total }, { etag: null, lastModified: null }, false);
      }
      const body = response.body;
      response = null;
      segment.streaming = true;
      const result = await streamIntoSegment(body, segment, this.#part!, (count) => this.#countBytes(count), this.#limit(this.#signal)).finally(() => (segment.streaming = false));
      if (result === 'ended-early' && total !== null) throw new RetryableError(`the connection closed after ${segment.offset} of ${total} bytes`);
      if (total === null) {
        // No length announced: the end of the body is the end of the file.
        segment.end = segment.offset;
        this.#record.sizeBytes = segment.offset;
      }
    }, segment);
  }

  /** Runs up to `connections` loops; each takes an unowned segment or splits the largest one, until none is left. */
  async #runConnections(probe: HttpResponse | null): Promise<void> {
    this.#startClock();
    const failure = new AbortController();
    const signal = AbortSignal.any([this.#signal, failure.signal]);
    let firstError: unknown = null;
    const connection = async (first: HttpResponse | null) => {
      let response = first;
      try {
        for (;;) {
          const segment = response ? this.#segments[0] : this.#nextAssignment();
          if (!segment) return;
          segment.assigned = true;
          await this.#runSegment(segment, response, signal);
          response = null;
        }
      } catch (error) {
        // The first real failure stops the other connections; a pause is not a failure.
        if (firstError === null && !this.#signal.aborted) {
          firstError = error;
          failure.abort(error);
        }
      }
    };
    if (probe) this.#segments[0].assigned = true;
    const loops = [connection(probe)];
    for (let index = 1; index < this.#settings.connections; index++) loops.push(connection(null));
    await Promise.all(loops);
    if (firstError !== null) throw firstError;
    if (this.#signal.aborted) throw this.#signal.reason;
  }

  /** An unowned segment with bytes left, or the second half of the largest owned one (within the steal allowance). */
  #nextAssignment(): LiveSegment | null {
    const next = nextAssignment(this.#segments, this.#steals < this.#settings.maxSteals, this.#settings.minSplitBytes);
    if (next?.stolen) {
      this.#steals++;
      this.#saveSegments();
    }
    return next?.segment ?? null;
  }

  /** Fetches one segment to its end, retrying from the current offset after every failure. */
  async #runSegment(segment: LiveSegment, first: HttpResponse | null, signal: AbortSignal): Promise<void> {
    const total = this.#record.sizeBytes;
    let response = first;
    let responseMs = this.#probeResponseMs;
    /** Responses whose body began to stream (the probe's too): a break after one is the connection's fault, not the endpoint's. */
    let answers = 0;
    const validators = this.#validators();
    await this.#withRetries(async () => {
      if (segment.offset >= segment.end) return;
      if (!response) {
        this.#requestCount++;
        // Bytes handed to a write that failed are not on disk: ask again from what was written.
        segment.offset = segment.written;
        // The range asked for is fixed before the request goes out: a split while it opens only shortens the
        // segment, and the stream then stops at the new end.
        const from = segment.offset;
        const to = segment.end;
        const timing = this.#timedWaitListener();
        const opened = await requestRange(this.#deps.http, this.#source, from, to, validators, signal, timing.onWait);
        responseMs = timing.elapsed();
        await checkRangeResponse(opened.response, { start: from, end: to, total }, validators, opened.sentIfRange);
        response = opened.response;
      }
      answers++;
      const body = response.body;
      response = null;
      segment.streaming = true;
      const hedge = this.#hedges.forResponse(responseMs, validators, total);
      const result = await streamWithHedge(body, segment, this.#part!, (count) => this.#countBytes(count), this.#limit(signal), signal, hedge).finally(() => (segment.streaming = false));
      if (result === 'ended-early') throw new RetryableError(`the connection closed at byte ${segment.offset}, before the end of its range (${segment.end})`);
    }, segment, signal, () => answers);
  }

  /** A wait listener for one request that also measures its response time: from when it was sent (after any wait) to its headers. */
  #timedWaitListener(): { onWait: (wait: RequestWait | null) => void; elapsed: () => number } {
    let sentAt = Date.now();
    return {
      onWait: (wait) => {
        this.#waitListener(wait);
        if (wait === null) sentAt = Date.now();
      },
      elapsed: () => Date.now() - sentAt,
    };
  }

  /** Calls `attempt` until it succeeds or fails for good (see retry-loop.ts), telling listeners about each wait. */
  #withRetries<T>(attempt: () => Promise<T>, segment?: LiveSegment, signal: AbortSignal = this.#signal, answers?: () => number): Promise<T> {
    return retryUntilDone(attempt, {
      backoff: this.#settings.backoff,
      signal,
      progress: segment ? () => segment.offset : undefined,
      answers,
      onRetry: (notice) => {
        this.#retryCount++;
        const { attempt: failures, delayMs, reason, status, requestId } = notice;
        this.#emit({ type: 'retry', attempt: failures, delayMs, reason, status, requestId, retryCount: this.#retryCount });
        this.#waiting = delayMs > 0 ? { reason: notice.slowDown ? 'rate limit' : 'retry', until: Date.now() + delayMs } : null;
      },
      onResume: () => {
        this.#waiting = null;
      },
    });
  }

  /** Throws away everything fetched for a file that changed, and counts the restart. */
  async #restart(reason: string): Promise<void> {
    this.#restartsThisRun++;
    this.#record.restartCount++;
    await this.#clock?.stop();
    this.#clock = null;
    await this.#prefixHash?.close();
    this.#prefixHash = null;
    await this.#part?.close().catch(() => {});
    this.#part = null;
    await rm(this.#deps.archive.partPath(this.#record.id), { force: true });
    this.#segments = [];
    this.#steals = 0;
    Object.assign(this.#record, { etag: null, lastModified: null, rangeSupported: null });
    this.#deps.journal.saveSegments(this.#record.id, []);
    this.#persistRecord();
    this.#emit({ type: 'restart', reason, restartCount: this.#record.restartCount });
    if (this.#restartsThisRun > this.#settings.maxRestarts) {
      throw new FatalError(`gave up after ${this.#settings.maxRestarts} clean restarts: ${reason}`);
    }
  }

  async #finalize(): Promise<void> {
    this.#setState('verifying', null);
    await this.#clock?.stop();
    this.#clock = null;
    const result = await finalizeDownload(this.#record, this.#part!, this.#segments, this.#deps.archive, this.#prefixHash);
    this.#prefixHash = null;
    await this.#part!.close();
    this.#part = null;
    Object.assign(this.#record, { state: 'done', error: null, completedAt: new Date().toISOString(), finalPath: result.finalPath, sha256: result.sha256 });
    this.#deps.archive.commit(this.#record);
    // Only now, with the catalog pointing at the archived file, may the part file go (a crash before this repeats finalize).
    await this.#deps.archive.release(this.#record.id);
    this.#emitProgress();
    this.#emit({ type: 'state', state: 'done', error: null });
    this.#emit({
      type: 'done',
      finalPath: result.finalPath,
      sha256: result.sha256,
      sizeBytes: this.#record.sizeBytes ?? 0,
      bytesDownloaded: this.#bytesThisRun,
      durationMs: Date.now() - this.#startedAt,
      retryCount: this.#retryCount,
      requestCount: this.#requestCount,
    });
  }

  /** Turns how the run ended into a final state: paused (user), or failed with one plain sentence. */
  async #settle(error: unknown): Promise<DownloadOutcome> {
    // On a full disk the last confirm and the end state need a few pages of the catalog: free the reserve first.
    if (error instanceof StorageError && error.code === 'ENOSPC') await this.#deps.releaseReserve?.().catch(() => {});
    await this.#clock?.stop().catch(() => {});
    this.#clock = null;
    if (this.#signal.aborted && (isAbort(error) || error === this.#signal.reason)) {
      this.#trySetState('paused', null);
      return { state: 'paused' };
    }
    const message = this.#deps.redact(error instanceof Error ? error.message : String(error));
    if (error instanceof StorageError) {
      // The disk, not the download, is the problem: what is confirmed stays, and the same command resumes.
      this.#trySetState('paused', message);
      this.#emit({ type: 'error', message, bytesDownloaded: this.#bytesThisRun, durationMs: Date.now() - this.#startedAt, retryCount: this.#retryCount });
      return { state: 'paused', message, code: error.code };
    }
    this.#trySetState('failed', message);
    this.#emit({ type: 'error', message, bytesDownloaded: this.#bytesThisRun, durationMs: Date.now() - this.#startedAt, retryCount: this.#retryCount });
    return { state: 'failed', message };
  }

  #startClock(): void {
    if (this.#clock) return;
    this.#clock = new DurabilityClock({
      part: this.#part!,
      segments: () => this.#segments,
      save: (records) => this.#deps.journal.saveSegments(this.#record.id, records),
      confirmIntervalMs: this.#settings.confirmIntervalMs,
      progressIntervalMs: this.#settings.progressIntervalMs,
      onProgress: () => this.#emitProgress(),
      // Without a known size there is nothing to resume into: offsets are not worth recording.
      persist: this.#record.rangeSupported === true,
    });
  }

  #emitProgress(): void {
    const bytesPerSecond = this.#clock ? this.#clock.bytesPerSecond(this.#bytesThisRun) : 0;
    void this.#prefixHash?.advance(writtenPrefix(this.#segments), bytesPerSecond);
    this.#emit({
      type: 'progress',
      bytesDownloaded: this.#bytesPresent(),
      sizeBytes: this.#record.sizeBytes,
      bytesPerSecond,
      connections: this.#segments.filter((segment) => segment.streaming).length,
      retryCount: this.#retryCount,
      durationMs: Date.now() - this.#startedAt,
      segments: this.#segments.map((segment) => ({ start: segment.start, end: segment.end, offset: segment.written, active: segment.streaming })),
      waitingUntil: this.#waiting?.until ?? null,
      waitReason: this.#waiting?.reason ?? null,
      allowedConnections: this.#deps.allowance ? Math.min(this.#settings.connections, this.#deps.allowance((this.#contentUrl ??= this.#source.contentRequest().url))) : null,
    });
  }

  #limit(signal: AbortSignal): { limiter: ByteRateLimit; signal: AbortSignal } | undefined {
    return this.#deps.bandwidth ? { limiter: this.#deps.bandwidth, signal } : undefined;
  }

  #countBytes(count: number): void {
    this.#bytesThisRun += count;
  }

  #bytesPresent(): number {
    return this.#segments.reduce((sum, segment) => sum + (segment.written - segment.start), 0);
  }

  #validators(): Validators {
    return validatorsOf(this.#record);
  }

  #persistRecord(): void {
    persistRecord(this.#deps.journal, this.#record);
  }

  async #openPart(size: number | null): Promise<PartFile> {
    await this.#prefixHash?.close();
    await this.#part?.close().catch(() => {});
    const part = await PartFile.open(this.#deps.archive.partPath(this.#record.id), size);
    this.#prefixHash = new PrefixHash(part.path);
    return part;
  }

  #saveSegments(): void {
    this.#deps.journal.saveSegments(this.#record.id, this.#segments.map(toRecord));
  }

  /** Records the end state if the catalog can still be written (a full disk may refuse even that). */
  #trySetState(state: DownloadRecord['state'], error: string | null): void {
    try {
      this.#setState(state, error);
    } catch (failure) {
      this.#record.state = state;
      this.#record.error = error;
      this.#emit({ type: 'state', state, error: `${error ?? state} (the catalog could not record it: ${(failure as Error).message})` });
    }
  }

  #setState(state: DownloadRecord['state'], error: string | null): void {
    this.#record.state = state;
    this.#record.error = error;
    this.#persistRecord();
    this.#emit({ type: 'state', state, error });
  }

  #emit(event: DistributiveOmit<DownloadEvent, 'downloadId' | 'fileId' | 'timestamp'>): void {
    this.#deps.emit({ ...event, downloadId: this.#record.id, fileId: this.#source.displayName, timestamp: Date.now() } as DownloadEvent);
  }
}

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;

/** A body with no bytes, for an empty file. */
function emptyBody(): HttpResponse['body'] {
  return Readable.from([]) as unknown as HttpResponse['body'];
}
