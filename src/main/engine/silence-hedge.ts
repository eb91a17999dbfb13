// Streams a ranged response into its segment, and when the connection falls silent mid-body asks for the rest again on a spare connection: whichever answers first carries on.
import { discardBody, type GetOptions, type HttpClient, type HttpResponse, type RequestWait } from './http/client.ts';
import type { PartFile } from './part-file.ts';
import { checkRangeResponse, requestRange, streamIntoSegment, type ByteRateLimit, type LiveSegment, type Validators } from './range-request.ts';
import type { ContentTarget } from './content-target.ts';

/**
 * A hedged request ("The Tail at Scale", Dean & Barroso, 2013), for a body that stops arriving. The read timeout
 * is the hard limit on silence and stays what the user set (minutes by default); waiting all of it out with the
 * file's only connection is the worst case, and a second request for the missing bytes costs one request. So after
 * a silence much longer than this connection has shown so far — the larger of `floorMs`, four times the request's
 * response time and four times its longest gap between chunks, the way TCP's retransmission timeout is a multiple
 * of the measured round trip (RFC 6298) — the rest of the range is asked again, and the two race to the first byte:
 * - the second request answers while the first is still silent: the first is dropped and the second streams the rest
 *   (watched the same way: it may be hedged in turn);
 * - the first resumes before the second answers: the second is dropped (its one request was the price);
 * - the second fails, or would have to wait out a cool-down: the first keeps its read timeout, and after another such
 *   silence another hedge may go.
 * The second request shares the silent one's connection slot on the endpoint (TrafficGetOptions.replaces): silent
 * requests holding every slot would otherwise keep their own hedges waiting for the read timeouts.
 * At most HEDGES_PER_STREAM hedges go out for one stream and the streams that took over from it.
 * Silence the download causes itself is not the server's: no hedge while the body is paused for a slow disk or
 * under a speed cap (the caller passes no hedge then).
 */
export interface Hedge {
  /** Least silence before hedging. */
  floorMs: number;
  /** How long this request took from sending to its response headers. */
  responseMs: number;
  /** Whether one more connection may be opened for this file right now. */
  allowed(): boolean;
  /** Opens and checks a request for [from, to) standing in for `silent`; rejects when it fails, is refused or would have to wait its turn. */
  open(from: number, to: number, silent: HttpResponse['body'], signal: AbortSignal): Promise<HedgeAnswer>;
  /** The second request took over (for the retry notice). */
  onTakeover(silentMs: number): void;
  /** The first request resumed and the second was dropped. */
  onLost(): void;
}

export interface HedgeAnswer {
  response: HttpResponse;
  /** From sending the hedge to its response headers. */
  responseMs: number;
}

/** Hedges sent for one stream (and the streams that took over from it) at most: a bound on requests spent on one silence. */
export const HEDGES_PER_STREAM = 3;

/** Hedges that lost the race (the silent connection resumed first) before a download stops hedging: each cost a request. */
export const MAX_LOST_HEDGES = 4;

export interface HedgePlannerOptions {
  http: HttpClient;
  /** Where the file's content requests go (the source's URL or where its redirects ended). */
  target: ContentTarget;
  /** Least silence before hedging; 0 or less: never hedge. */
  floorMs: number;
  /** The file's connections (read live: the setting may change): streaming segments plus hedges on their way stay within it. */
  connections: () => number;
  /** Segments of the file streaming right now. */
  streaming: () => number;
  /** The speed cap; while it is set, hedging is off (the cap makes silences of its own). */
  bandwidth?: ByteRateLimit;
  /** Counts a request the hedge sends. */
  onRequest: () => void;
  /** The hedge took over from a silent connection. */
  onTakeover: (silentMs: number) => void;
}

/**
 * One download's hedging: which silent connections may be hedged (a spare connection of the file, no speed cap, fewer
 * than MAX_LOST_HEDGES lost races so far: a link whose silences keep ending by themselves is bursty, not stalling)
 * and how a hedge request is sent.
 */
export class HedgePlanner {
  readonly #options: HedgePlannerOptions;
  #open = 0;
  #lost = 0;

  constructor(options: HedgePlannerOptions) {
    this.#options = options;
  }

  /** The hedge for one response (`responseMs`: how long it took to answer), or null when hedging is off. */
  forResponse(responseMs: number, validators: Validators, total: number | null): Hedge | null {
    const options = this.#options;
    if (!(options.floorMs > 0) || !this.#mayHedge()) return null;
    return {
      floorMs: options.floorMs,
      responseMs,
      allowed: () => this.#mayHedge() && options.streaming() + this.#open < options.connections(),
      open: (from, to, silent, signal) => this.#send(from, to, silent, validators, total, signal),
      onTakeover: options.onTakeover,
      onLost: () => void this.#lost++,
    };
  }

  #mayHedge(): boolean {
    return this.#lost < MAX_LOST_HEDGES && (this.#options.bandwidth?.bytesPerSecond ?? null) === null;
  }

  async #send(from: number, to: number, silent: HttpResponse['body'], validators: Validators, total: number | null, signal: AbortSignal): Promise<HedgeAnswer> {
    this.#open++;
    this.#options.onRequest();
    // With traffic control the hedge shares the silent request's connection slot (TrafficGetOptions.replaces); a
    // plain client ignores the option.
    const inner = this.#options.http;
    const http: HttpClient = { get: (url, headers, options) => inner.get(url, headers, { ...options, replaces: silent } as GetOptions), close: () => inner.close() };
    // A hedge is worth sending only at once: one that would wait out a cool-down or queue for a connection (on another
    // endpoint, after a failover) would take a place others need. (It may wait for a budget token: the retry after a
    // read timeout would need one too.)
    const queueing = new AbortController();
    let sentAt = Date.now();
    const onWait = (wait: RequestWait | null) => {
      if (wait === null) sentAt = Date.now();
      else if (wait.reason !== 'budget') queueing.abort(new Error(`the hedge would wait (${wait.reason})`));
    };
    try {
      const opened = await requestRange(http, this.#options.target, from, to, validators, AbortSignal.any([signal, queueing.signal]), onWait);
      const responseMs = Date.now() - sentAt;
      await checkRangeResponse(opened.response, { start: from, end: to, total }, validators, opened.sentIfRange);
      return { response: opened.response, responseMs };
    } finally {
      this.#open--;
    }
  }
}

type StreamResult = 'complete' | 'ended-early';
type Settled = { kind: 'done'; result: StreamResult } | { kind: 'failed'; error: unknown };

/** Multiples of the connection's own timings that count as "much longer than usual". */
const SILENCE_FACTOR = 4;

export async function streamWithHedge(
  body: HttpResponse['body'],
  segment: LiveSegment,
  part: PartFile,
  onBytes: (count: number) => void,
  limit: { limiter: ByteRateLimit; signal: AbortSignal } | undefined,
  signal: AbortSignal,
  hedge: Hedge | null,
  hedgesLeft: number = HEDGES_PER_STREAM,
): Promise<StreamResult> {
  const streaming = streamIntoSegment(body, segment, part, onBytes, limit);
  if (!hedge || hedgesLeft <= 0) return streaming;
  const first: Promise<Settled> = streaming.then(
    (result) => ({ kind: 'done', result }),
    (error: unknown) => ({ kind: 'failed', error }),
  );
  const watch = watchForSilence(body, segment, signal, hedge, hedgesLeft);
  const winner = await Promise.race([first, watch.answer.then((answer) => ({ kind: 'hedge' as const, ...answer }))]);
  watch.stop();
  if (winner.kind !== 'hedge') {
    // The first request ended (done or failed) before any hedge answered: a late answer is not needed.
    watch.cancel();
    return settle(winner);
  }
  const { response, responseMs, from, silentMs } = winner;
  if (segment.offset !== from) {
    // The first connection resumed while the second was on its way: keep it, drop the second.
    discardBody(response.body);
    hedge.onLost();
    return settle(await first);
  }
  // The second answered while the first was still silent: drop the first and let its stream settle (any write it
  // had started lands first), then continue from exactly where it stopped.
  discardBody(body);
  await first;
  if (segment.offset !== from || segment.written !== from) {
    discardBody(response.body);
    return 'ended-early';
  }
  hedge.onTakeover(silentMs);
  return streamWithHedge(response.body, segment, part, onBytes, limit, signal, { ...hedge, responseMs }, watch.left());
}

function settle(settled: Settled): StreamResult {
  if (settled.kind === 'failed') throw settled.error;
  return settled.result;
}

interface Watch {
  /** Resolves with a hedge's answer once one comes in time; never resolves otherwise. */
  answer: Promise<HedgeAnswer & { from: number; silentMs: number }>;
  /** Stops watching (the timer and the listener). */
  stop(): void;
  /** Aborts a hedge still on its way, and drops its body should it answer anyway. */
  cancel(): void;
  /** Hedges still allowed after this watch. */
  left(): number;
}

function watchForSilence(body: HttpResponse['body'], segment: LiveSegment, signal: AbortSignal, hedge: Hedge, hedgesLeft: number): Watch {
  let lastDataAt = Date.now();
  let longestGap = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let left = hedgesLeft;
  const controller = new AbortController();
  let resolveAnswer: (answer: HedgeAnswer & { from: number; silentMs: number }) => void = () => {};
  const answer = new Promise<HedgeAnswer & { from: number; silentMs: number }>((resolve) => (resolveAnswer = resolve));
  let pending: Promise<HedgeAnswer | null> | null = null;

  const onData = () => {
    const now = Date.now();
    longestGap = Math.max(longestGap, now - lastDataAt);
    lastDataAt = now;
  };
  const threshold = () => Math.max(hedge.floorMs, SILENCE_FACTOR * hedge.responseMs, SILENCE_FACTOR * longestGap);
  const arm = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(check, Math.max(1, Math.ceil(delay)));
    timer.unref?.();
  };
  const check = () => {
    timer = undefined;
    if (stopped || signal.aborted) return;
    const silentMs = Date.now() - lastDataAt;
    const due = threshold() - silentMs;
    if (due > 0) return arm(due);
    // Paused by us (a write on its way to a slow disk holds the socket): the silence is ours, look again later.
    if (body.isPaused() || segment.offset !== segment.written || segment.offset >= segment.end || !hedge.allowed()) return arm(threshold() / 4);
    const from = segment.offset;
    left--;
    const sentAt = Date.now();
    pending = hedge.open(from, segment.end, body, AbortSignal.any([signal, controller.signal])).then(
      (hedged) => {
        if (stopped) discardBody(hedged.response.body);
        else resolveAnswer({ ...hedged, from, silentMs });
        return hedged;
      },
      () => {
        // Failed or would have had to queue: the first request goes on; after another long silence, try again.
        pending = null;
        if (left > 0) arm(Math.max(threshold(), Date.now() - sentAt));
        return null;
      },
    );
  };

  body.on('data', onData);
  arm(threshold());
  return {
    answer,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      body.off('data', onData);
    },
    cancel() {
      controller.abort(new DOMException('the first request ended first', 'AbortError'));
      void pending?.then((hedged) => hedged && discardBody(hedged.response.body));
    },
    left: () => left,
  };
}
