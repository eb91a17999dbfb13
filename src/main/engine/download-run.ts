// One download from first request to verified archive file: probe, plan segments, run connections, split, retry, restart.
import { Readable } from 'node:stream';
import type { DownloadRecord } from '../../shared/model.ts';
import { FatalError, RestartRequired, RetryableError } from './errors.ts';
import type { DownloadEvent } from './events.ts';
import { discardBody, type HttpResponse } from './http/client.ts';
import { headerValue } from './http/retry-policy.ts';
import { checkRangeResponse, requestRange, streamIntoSegment, type ByteRateLimit, type LiveSegment, type Validators } from './range-request.ts';
import { planSegments, segmentCount } from './segments.ts';
import { nextAssignment } from './segment-assignment.ts';
import type { DownloadSource } from './source.ts';
import { ContentTarget } from './content-target.ts';
import { applyDetails, hasValidator, learnFromResponse, liveSegment, persistRecord, toRecord, validatorsOf } from './download-record.ts';
import { DEFAULT_DOWNLOAD_SETTINGS, type DownloadDeps, type DownloadOutcome, type DownloadSettings } from './download-settings.ts';
import { retryUntilDone } from './retry-loop.ts';
import { HedgePlanner, streamWithHedge } from './silence-hedge.ts';
import { PartWorkspace } from './part-workspace.ts';
import { RunEnding, type RunEvent } from './run-ending.ts';
import { RunWaits } from './run-waits.ts';

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
  /** The part file, its prefix hash and the durability clock (see part-workspace.ts). */
  readonly #workspace: PartWorkspace;
  /** How the run ends: finalized to done, or settled as paused or failed (see run-ending.ts). */
  readonly #ending: RunEnding;
  #bytesThisRun = 0;
  #retryCount = 0;
  #requestCount = 0;
  #steals = 0;
  #restartsThisRun = 0;
  /** Asks again for the rest of a silent connection's range (see silence-hedge.ts). */
  readonly #hedges: HedgePlanner;
  /** How long the probe took to answer: the response time of the first segment's request. */
  #probeResponseMs = 0;
  /** Where content requests go: the source's URL, or where its redirects ended, for this run only (see content-target.ts). */
  readonly #target: ContentTarget;
  /** Why and until when the download is held back (rate limit, Retry-After, cool-down); see run-waits.ts. */
  readonly #waits = new RunWaits(() => {
    // Before the first response no clock ticks: say at once that the download waits (and until when), not stalls.
    if (!this.#workspace.clockStarted) this.#emitProgress();
  });

  constructor(record: DownloadRecord, source: DownloadSource, deps: DownloadDeps, settings: DownloadSettings, signal: AbortSignal) {
    this.#record = record;
    this.#source = source;
    this.#target = new ContentTarget(source);
    this.#deps = deps;
    this.#settings = settings;
    this.#signal = signal;
    this.#workspace = new PartWorkspace(record, deps, settings, { segments: () => this.#segments, onProgress: () => this.#emitProgress() });
    this.#ending = new RunEnding(record, deps, signal, this.#workspace, {
      setState: (state, error) => this.#setState(state, error),
      emit: (event) => this.#emit(event),
      emitProgress: () => this.#emitProgress(),
      tally: () => ({ bytesDownloaded: this.#bytesThisRun, durationMs: Date.now() - this.#startedAt, retryCount: this.#retryCount, requestCount: this.#requestCount }),
    });
    this.#hedges = new HedgePlanner({
      http: deps.http,
      target: this.#target,
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
      await this.#ending.finalize(this.#settings.expectedSha256 ?? null);
      return { state: 'done', record: this.#record };
    } catch (error) {
      return await this.#ending.settle(error);
    } finally {
      await this.#workspace.close();
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
      const part = await this.#workspace.open(record.sizeBytes);
      if ((await part.size()) !== record.sizeBytes) throw new RestartRequired('the part file is missing or has the wrong size');
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
    await this.#workspace.deleteFile();
    const probe = await this.#withRetries(async () => {
      this.#requestCount++;
      const timing = this.#waits.timed();
      const { response } = await requestRange(this.#deps.http, this.#target, 0, null, none, this.#signal, timing.onWait);
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
      await this.#workspace.open(total);
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
    await this.#workspace.open(total);
    const segment = liveSegment({ start: 0, end: total ?? Number.MAX_SAFE_INTEGER, confirmedOffset: 0 });
    this.#segments = [segment];
    this.#workspace.startClock();
    let response: HttpResponse | null = first;
    await this.#withRetries(async () => {
      if (!response) {
        segment.offset = segment.written = segment.confirmed = 0;
        this.#requestCount++;
        response = (await requestRange(this.#deps.http, this.#target, 0, null, { etag: null, lastModified: null }, this.#signal, this.#waits.listener)).response;
        if (response.status !== 200) await checkRangeResponse(response, { start: 0, end: null, total }, { etag: null, lastModified: null }, false);
      }
      const body = response.body;
      response = null;
      segment.streaming = true;
      const result = await streamIntoSegment(body, segment, this.#workspace.part!, (count) => this.#countBytes(count), this.#limit(this.#signal)).finally(() => (segment.streaming = false));
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
    this.#workspace.startClock();
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
          void this.#workspace.rangeFinished();
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
        const timing = this.#waits.timed();
        const opened = await requestRange(this.#deps.http, this.#target, from, to, validators, signal, timing.onWait);
        responseMs = timing.elapsed();
        await checkRangeResponse(opened.response, { start: from, end: to, total }, validators, opened.sentIfRange);
        response = opened.response;
      }
      answers++;
      const body = response.body;
      response = null;
      segment.streaming = true;
      const hedge = this.#hedges.forResponse(responseMs, validators, total);
      const result = await streamWithHedge(body, segment, this.#workspace.part!, (count) => this.#countBytes(count), this.#limit(signal), signal, hedge).finally(() => (segment.streaming = false));
      if (result === 'ended-early') throw new RetryableError(`the connection closed at byte ${segment.offset}, before the end of its range (${segment.end})`);
    }, segment, signal, () => answers);
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
        this.#waits.backingOff(delayMs, notice.slowDown);
      },
      onResume: () => this.#waits.resumed(),
    });
  }

  /** Throws away everything fetched for a file that changed, and counts the restart. */
  async #restart(reason: string): Promise<void> {
    this.#restartsThisRun++;
    this.#record.restartCount++;
    await this.#workspace.discard();
    this.#segments = [];
    this.#steals = 0;
    this.#target.forget();
    Object.assign(this.#record, { etag: null, lastModified: null, rangeSupported: null });
    this.#deps.journal.saveSegments(this.#record.id, []);
    this.#persistRecord();
    this.#emit({ type: 'restart', reason, restartCount: this.#record.restartCount });
    if (this.#restartsThisRun > this.#settings.maxRestarts) {
      throw new FatalError(`gave up after ${this.#settings.maxRestarts} clean restarts: ${reason}`);
    }
  }

  #emitProgress(): void {
    const bytesPerSecond = this.#workspace.progressTick(this.#bytesThisRun);
    this.#emit({
      type: 'progress',
      bytesDownloaded: this.#bytesPresent(),
      sizeBytes: this.#record.sizeBytes,
      bytesPerSecond,
      connections: this.#segments.filter((segment) => segment.streaming).length,
      retryCount: this.#retryCount,
      durationMs: Date.now() - this.#startedAt,
      segments: this.#segments.map((segment) => ({ start: segment.start, end: segment.end, offset: segment.written, active: segment.streaming })),
      waitingUntil: this.#waits.current?.until ?? null,
      waitReason: this.#waits.current?.reason ?? null,
      allowedConnections: this.#deps.allowance ? Math.min(this.#settings.connections, this.#deps.allowance(this.#target.url)) : null,
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

  #saveSegments(): void {
    this.#deps.journal.saveSegments(this.#record.id, this.#segments.map(toRecord));
  }

  #setState(state: DownloadRecord['state'], error: string | null): void {
    this.#record.state = state;
    this.#record.error = error;
    this.#persistRecord();
    this.#emit({ type: 'state', state, error });
  }

  #emit(event: RunEvent): void {
    this.#deps.emit({ ...event, downloadId: this.#record.id, fileId: this.#source.displayName, timestamp: Date.now() } as DownloadEvent);
  }
}

/** A body with no bytes, for an empty file. */
function emptyBody(): HttpResponse['body'] {
  return Readable.from([]) as unknown as HttpResponse['body'];
}
