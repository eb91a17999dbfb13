// When an answer is overdue: each endpoint's smoothed response time, and the race of a second request against a first that has not answered yet.
import type { HttpResponse } from '../http/client.ts';
import { discardBody } from '../http/client.ts';
import type { Clock } from './clock.ts';

/** Answers seen before the estimate is trusted: a hedge needs to know what "overdue" means on this endpoint. */
const MIN_SAMPLES = 4;

/**
 * An endpoint's response time (sending a request to its response headers), smoothed as TCP smooths the round trip
 * (RFC 6298 §2: SRTT and RTTVAR, α = 1/8, β = 1/4). An answer is overdue after SRTT + 4·RTTVAR — TCP's retransmission
 * timeout — and never before `floorMs`: beyond the scheduling noise of a busy process and a typical round trip.
 * An endpoint whose answers vary widely (a server that takes long to start some files) gets a correspondingly late
 * hedge, so hedges stay rare where slowness is normal and quick where an answer that is late is a lost one.
 */
export class ResponseTime {
  #srtt = 0;
  #rttvar = 0;
  #samples = 0;

  add(ms: number): void {
    const sample = Math.max(0, ms);
    if (this.#samples === 0) {
      this.#srtt = sample;
      this.#rttvar = sample / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - sample);
      this.#srtt = 0.875 * this.#srtt + 0.125 * sample;
    }
    this.#samples++;
  }

  /** When a request still without an answer is overdue (ms after sending), or null while too few answers were seen. */
  overdueAfter(floorMs: number): number | null {
    if (this.#samples < MIN_SAMPLES) return null;
    return Math.max(floorMs, Math.ceil(this.#srtt + 4 * this.#rttvar));
  }
}

/** Answers an endpoint must give per hedge it may send: hedging adds at most one request in ten, whatever the estimate says. */
export const ANSWERS_PER_HEDGE = 10;

/**
 * The hedges an endpoint has earned: every ANSWERS_PER_HEDGE answers buy one (at most three saved up). The estimate keeps hedges rare where answers are merely slow; this bounds what they can cost when it is wrong
 * (a request budget of 100 a minute has no requests to spare for many).
 */
export class HedgeCredit {
  /** Answers not yet spent on a hedge (counted whole, so ten answers buy exactly one). */
  #answers = 0;

  earn(): void {
    this.#answers = Math.min(3 * ANSWERS_PER_HEDGE, this.#answers + 1);
  }

  /** Spends one hedge if one is earned. */
  spend(): boolean {
    if (this.#answers < ANSWERS_PER_HEDGE) return false;
    this.#answers -= ANSWERS_PER_HEDGE;
    return true;
  }
}

type Settled = { ok: true; response: HttpResponse } | { ok: false; error: unknown };

/** One request of a race: its answer, and how to call it off. */
export interface Contender {
  answer: Promise<HttpResponse>;
  /** Aborts the request if it is still on its way; a body that arrives anyway is dropped. */
  cancel(): void;
}

/**
 * A hedged request ("The Tail at Scale", Dean & Barroso, 2013): if the first request has not answered after
 * `overdueMs`, a second, identical one is sent and the first answer of the two is used; the other is called off.
 * An answer is any response, a 429 or 503 included (the caller deals with it); a request that fails (a timeout, a
 * reset) leaves the race to the other. `hedge` may decline (resolve null): the first request is then awaited alone.
 */
export async function raceOverdue(first: Contender, overdueMs: number, hedge: (signal: AbortSignal) => Promise<Contender | null>, clock: Clock): Promise<HttpResponse> {
  const firstSettled = settle(first.answer);
  const timer = new AbortController();
  const overdue = clock.sleep(overdueMs, timer.signal).then(
    () => true,
    () => false,
  );
  const early = await Promise.race([firstSettled, overdue]);
  if (early !== true) {
    timer.abort();
    return unwrap(early === false ? await firstSettled : early);
  }
  const declined = new AbortController();
  const starting = hedge(declined.signal).catch(() => null);
  const second = await Promise.race([starting, firstSettled.then(() => null)]);
  if (!second) {
    // Declined, failed to start, or the first answered while the hedge waited for its turn: call the hedge off.
    declined.abort(new Error('the first request answered'));
    void starting.then((late) => late?.cancel());
    return unwrap(await firstSettled);
  }
  const secondSettled = settle(second.answer);
  const winner = await Promise.race([firstSettled.then((s) => ({ from: first, s })), secondSettled.then((s) => ({ from: second, s }))]);
  const other = winner.from === first ? { contender: second, settled: secondSettled } : { contender: first, settled: firstSettled };
  if (winner.s.ok) {
    other.contender.cancel();
    void other.settled.then((s) => s.ok && discardBody(s.response.body));
    return winner.s.response;
  }
  const rest = await other.settled;
  // Both failed: the first request's failure is the one to report.
  return unwrap(rest.ok ? rest : winner.from === first ? winner.s : rest);
}

function settle(answer: Promise<HttpResponse>): Promise<Settled> {
  return answer.then(
    (response) => ({ ok: true, response }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function unwrap(settled: Settled): HttpResponse {
  if (!settled.ok) throw settled.error;
  return settled.response;
}
