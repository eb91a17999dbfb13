// An HttpClient that puts every request through traffic control: failover routing, overload cool-down, adaptive connection allowance and the request budget.
import { discardBody, type HttpClient, type HttpResponse } from '../http/client.ts';
import { headerValue, retryAfterDelay } from '../http/retry-policy.ts';
import { systemClock } from './clock.ts';
import { ConnectionAllowance, type Release } from './connection-allowance.ts';
import { EndpointHealth, type Route } from './endpoint-health.ts';
import { RequestBudget } from './request-budget.ts';
import { apiKeyHashOf, countBodyBytes, isUnreachable, publicUrl, whenBodyDone } from './request-labels.ts';
import { HedgeCredit, raceOverdue, ResponseTime, type Contender } from './request-hedge.ts';
import type { EndpointStats, RequestOutcome, TrafficClient, TrafficGetOptions, TrafficOptions, TrafficStats, WaitInfo, WaitReason } from './traffic-types.ts';

export type * from './traffic-types.ts';

/** Least wait for an answer before a request is sent a second time (see request-hedge.ts). */
export const DEFAULT_HEDGE_AFTER_MS = 250;

/** One connection slot of an endpoint's allowance; given back when the last request holding it is done. */
interface SharedSlot {
  endpoint: string;
  holders: number;
  release: Release;
}

export function createTrafficClient(inner: HttpClient, options: TrafficOptions): TrafficClient {
  const clock = options.clock ?? systemClock;
  const health = new EndpointHealth({ primaryBase: options.primaryBase, backupBase: options.backupBase, cooldown: options.cooldown, clock });
  const allowances = new Map<string, ConnectionAllowance>();
  /** Keyed by endpoint and key hash; each entry remembers its endpoint for per-endpoint questions. */
  const budgets = new Map<string, { endpoint: string; budget: RequestBudget }>();
  const coolingWaiters = new Map<string, number>();
  /** The connection slot each open response holds, for a request that replaces it. */
  const slots = new WeakMap<object, SharedSlot>();
  const closing = new AbortController();
  let requestsPerMinute = options.requestsPerMinute;
  const counters = { requests: 0, byStatus: {} as Record<string, number>, rateLimited: 0, overloaded: 0, failovers: 0, hedged: 0 };
  /** Per endpoint and kind (ranged content or API call: a file's first byte may come later than a call's answer). */
  const responseTimes = new Map<string, ResponseTime>();
  const hedgeCredits = new Map<string, HedgeCredit>();
  const hedgeAfterMs = options.hedgeAfterMs ?? DEFAULT_HEDGE_AFTER_MS;

  /** Budget and cool-down protect the rate-limited API; plain hosts get them only when asked. */
  const isLimited = (endpoint: string) => options.limitAllHosts === true || health.isApiEndpoint(endpoint);

  function allowanceFor(endpoint: string): ConnectionAllowance {
    let allowance = allowances.get(endpoint);
    if (!allowance) {
      allowance = new ConnectionAllowance({ max: options.maxConnectionsPerEndpoint, clock });
      allowances.set(endpoint, allowance);
    }
    return allowance;
  }

  function budgetFor(endpoint: string, keyHash: string): RequestBudget | null {
    if (!isLimited(endpoint)) return null;
    const key = `${endpoint} ${keyHash}`;
    let entry = budgets.get(key);
    if (!entry) {
      entry = { endpoint, budget: new RequestBudget({ requestsPerMinute, burst: options.burst, clock }) };
      budgets.set(key, entry);
    }
    return entry.budget;
  }

  function announce(reason: WaitReason, until: number | null, endpoint: string, onWait: TrafficGetOptions['onWait']): void {
    const info: WaitInfo = { reason, until, endpoint };
    options.onWait?.(info);
    onWait?.(info);
  }

  /** Holds `slot` once more; the returned release lets go once, and the last holder's gives the slot back. */
  function hold(slot: SharedSlot): Release {
    slot.holders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--slot.holders === 0) slot.release();
    };
  }

  /**
   * Waits out cool-downs, then takes a connection slot and a budget token; re-routes if the endpoint fell over meanwhile.
   * A request that `replaces` a response still open on the same endpoint shares that response's slot (see TrafficGetOptions).
   */
  async function admit(url: string, keyHash: string, signal: AbortSignal, getOptions: TrafficGetOptions): Promise<{ route: Route; slot: SharedSlot; release: Release; budget: RequestBudget | null; waited: boolean }> {
    const onWait = getOptions.onWait;
    let waited = false;
    for (;;) {
      const route = health.route(url);
      if (route.availableAt !== null) {
        waited = true;
        announce('cooldown', route.availableAt, route.endpoint, onWait);
        coolingWaiters.set(route.endpoint, (coolingWaiters.get(route.endpoint) ?? 0) + 1);
        try {
          await clock.sleep(route.availableAt - clock.now(), signal);
        } finally {
          coolingWaiters.set(route.endpoint, coolingWaiters.get(route.endpoint)! - 1);
        }
        continue;
      }
      const replaced = getOptions.replaces ? slots.get(getOptions.replaces) : undefined;
      let slot: SharedSlot;
      if (replaced && replaced.holders > 0 && replaced.endpoint === route.endpoint) {
        slot = replaced;
      } else {
        const allowance = allowanceFor(route.endpoint);
        if (allowance.full) {
          waited = true;
          announce('connections', null, route.endpoint, onWait);
        }
        slot = { endpoint: route.endpoint, holders: 0, release: await allowance.acquire(signal) };
      }
      const release = hold(slot);
      const budget = budgetFor(route.endpoint, keyHash);
      try {
        await budget?.acquire(signal, (until) => {
          waited = true;
          announce('budget', until, route.endpoint, onWait);
        });
      } catch (error) {
        release();
        throw error;
      }
      // Another request's 503 may have started a cool-down while this one waited: do not send into it.
      if (isLimited(route.endpoint) && health.coolingUntil(route.endpoint) !== null) {
        release();
        continue;
      }
      return { route, slot, release, budget, waited };
    }
  }

  /** Feeds the response's signals back into the limiters; `sentAt` tells which loss episode a 429 belongs to. */
  function observe(route: Route, response: HttpResponse, allowance: ConnectionAllowance, budget: RequestBudget | null, sentAt: number): void {
    const status = response.status;
    const retryAfter = retryAfterDelay(response.headers, clock.now());
    budget?.updateFromHeaders(response.headers);
    if (status === 429) {
      counters.rateLimited++;
      allowance.on429(sentAt, retryAfter);
      // Retry-After holds for everyone on this budget, not only the request that was told.
      if (retryAfter !== null) budget?.pauseUntil(clock.now() + retryAfter);
      else budget?.drain();
    } else if (status === 503 || status === 529) {
      counters.overloaded++;
      // Opens the endpoint's cool-down only when overload is sustained; an isolated one is retried by its request.
      if (isLimited(route.endpoint)) health.reportOverload(route.endpoint, retryAfter);
    } else if (status >= 200 && status < 300) {
      allowance.onSuccess(sentAt);
      health.reportSuccess(route.endpoint);
    }
  }

  function count(status: number | null): void {
    counters.requests++;
    const key = status === null ? 'error' : String(status);
    counters.byStatus[key] = (counters.byStatus[key] ?? 0) + 1;
  }

  function report(outcome: RequestOutcome): void {
    try {
      options.onRequest?.(outcome);
    } catch {
      // A listener's failure must not break the request it describes.
    }
  }

  function endpointName(endpointOrUrl: string): string {
    try {
      return health.endpointOf(endpointOrUrl);
    } catch {
      return endpointOrUrl;
    }
  }

  function endpointWaitingUntil(endpoint: string): number | null {
    const times: number[] = [];
    if ((coolingWaiters.get(endpoint) ?? 0) > 0) {
      const until = health.coolingUntil(endpoint);
      if (until !== null) times.push(until);
    }
    for (const entry of budgets.values()) {
      const until = entry.endpoint === endpoint ? entry.budget.waitingUntil() : null;
      if (until !== null) times.push(until);
    }
    return times.length === 0 ? null : Math.max(...times);
  }

  function knownEndpoints(): string[] {
    const names = new Set<string>([...allowances.keys(), ...[...budgets.values()].map((entry) => entry.endpoint)]);
    for (const name of [health.primaryEndpoint, health.backupEndpoint]) if (name) names.add(name);
    return [...names];
  }

  function endpointStats(endpoint: string): EndpointStats {
    const allowance = allowances.get(endpoint);
    const own = [...budgets.values()].filter((entry) => entry.endpoint === endpoint).map((entry) => entry.budget);
    const waits = own.map((budget) => budget.waitingUntil()).filter((until): until is number => until !== null);
    return {
      endpoint,
      connectionLimit: allowance?.limit ?? options.maxConnectionsPerEndpoint,
      connectionMax: allowance?.max ?? options.maxConnectionsPerEndpoint,
      inUse: allowance?.inUse ?? 0,
      waitingForConnection: allowance?.waiting ?? 0,
      coolingUntil: health.coolingUntil(endpoint),
      consecutiveOverloads: health.consecutiveOverloads(endpoint),
      requestsPerMinute: own[0]?.requestsPerMinute ?? (isLimited(endpoint) ? requestsPerMinute : null),
      waitingForBudget: own.reduce((sum, budget) => sum + budget.waiting, 0),
      budgetWaitingUntil: waits.length === 0 ? null : Math.min(...waits),
    };
  }

  /**
   * Sends one admitted request (it holds `release` on `slot` and, when budgeted, a token) and feeds its answer back
   * into the limiters. The slot is held until the body is done: an open body is an open connection on the endpoint.
   */
  function send(route: Route, headers: Record<string, string>, getOptions: TrafficGetOptions, slot: SharedSlot, release: Release, budget: RequestBudget | null, arrivedAt: number): Contender {
    const controller = new AbortController();
    const signal = getOptions.signal ? AbortSignal.any([getOptions.signal, controller.signal]) : controller.signal;
    const allowance = allowanceFor(route.endpoint);
    const sentAt = clock.now();
    const base = { url: publicUrl(route.url), endpoint: route.endpoint, range: rangeHeader(headers), waitedMs: sentAt - arrivedAt, failover: route.failover };
    const answer = (async () => {
      let response: HttpResponse;
      try {
        response = await inner.get(route.url, headers, { signal, followRedirects: getOptions.followRedirects });
      } catch (error) {
        release();
        count(null);
        // Refused or unroutable: every connection to that address fails alike, so one opens the cool-down (and failover).
        // Resets and read timeouts are one connection's trouble, not the endpoint's: they neither cool it nor shrink its allowance.
        if (isUnreachable(error) && isLimited(route.endpoint) && !signal.aborted) health.reportOverload(route.endpoint, null, { immediate: true });
        report({ ...base, status: null, requestId: null, durationMs: clock.now() - sentAt, bytes: 0, error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
      responseTimeOf(route.endpoint, headers).add(clock.now() - sentAt);
      hedgeCreditOf(route.endpoint).earn();
      count(response.status);
      observe(route, response, allowance, budget, sentAt);
      const requestId = headerValue(response.headers['request-id']) ?? headerValue(response.headers['x-request-id']);
      slots.set(response.body, slot);
      const received = countBodyBytes(response.body);
      whenBodyDone(response.body, () => {
        release();
        report({ ...base, status: response.status, requestId, durationMs: clock.now() - sentAt, bytes: received() });
      });
      return response;
    })();
    return {
      answer,
      cancel() {
        controller.abort(new DOMException('another request for the same thing answered first', 'AbortError'));
        answer.then((response) => discardBody(response.body), () => {});
      },
    };
  }

  /**
   * The second request of a hedge (see request-hedge.ts): the same route, sharing the first one's connection slot (one
   * of the two is dropped as soon as the other answers), paying its own budget token (it is a request like any). None
   * into a cool-down, and none once the first has given its slot back.
   */
  async function startHedge(route: Route, headers: Record<string, string>, getOptions: TrafficGetOptions, slot: SharedSlot, budget: RequestBudget | null, declined: AbortSignal, arrivedAt: number): Promise<Contender | null> {
    const cooling = () => isLimited(route.endpoint) && health.coolingUntil(route.endpoint) !== null;
    if (closing.signal.aborted || slot.holders === 0 || cooling() || !hedgeCreditOf(route.endpoint).spend()) return null;
    const release = hold(slot);
    try {
      await budget?.acquire(AbortSignal.any([declined, closing.signal, ...(getOptions.signal ? [getOptions.signal] : [])]));
    } catch {
      release();
      return null;
    }
    if (cooling()) {
      release();
      return null;
    }
    counters.hedged++;
    return send(route, headers, getOptions, slot, release, budget, arrivedAt);
  }

  function responseTimeOf(endpoint: string, headers: Record<string, string>): ResponseTime {
    const key = `${endpoint} ${rangeHeader(headers) !== null ? 'range' : 'call'}`;
    let estimate = responseTimes.get(key);
    if (!estimate) {
      estimate = new ResponseTime();
      responseTimes.set(key, estimate);
    }
    return estimate;
  }

  function hedgeCreditOf(endpoint: string): HedgeCredit {
    let credit = hedgeCredits.get(endpoint);
    if (!credit) {
      credit = new HedgeCredit();
      hedgeCredits.set(endpoint, credit);
    }
    return credit;
  }

  return {
    async get(url, headers, getOptions: TrafficGetOptions = {}) {
      if (closing.signal.aborted) throw new Error('the HTTP client is closed');
      const signal = getOptions.signal ? AbortSignal.any([getOptions.signal, closing.signal]) : closing.signal;
      const keyHash = options.apiKeyHash ?? apiKeyHashOf(headers);
      const arrivedAt = clock.now();
      const { route, slot, release, budget, waited } = await admit(url, keyHash, signal, getOptions);
      if (waited) getOptions.onWait?.(null);
      if (route.failover) counters.failovers++;
      const first = send(route, headers, getOptions, slot, release, budget, arrivedAt);
      const overdueMs = hedgeAfterMs > 0 ? responseTimeOf(route.endpoint, headers).overdueAfter(hedgeAfterMs) : null;
      if (overdueMs === null) return first.answer;
      return raceOverdue(first, overdueMs, (declined) => startHedge(route, headers, getOptions, slot, budget, declined, arrivedAt), clock);
    },

    stats(): TrafficStats {
      return { ...counters, byStatus: { ...counters.byStatus }, endpoints: knownEndpoints().map(endpointStats) };
    },

    setRequestsPerMinute(next) {
      if (!(next > 0) || !Number.isFinite(next)) throw new RangeError(`requests per minute must be a positive number, got ${next}`);
      requestsPerMinute = next;
      for (const entry of budgets.values()) entry.budget.setRate(next);
    },

    allowance(endpoint) {
      return allowances.get(endpointName(endpoint))?.limit ?? options.maxConnectionsPerEndpoint;
    },

    waitingUntil(endpoint) {
      if (endpoint !== undefined) return endpointWaitingUntil(endpointName(endpoint));
      const times = knownEndpoints().map(endpointWaitingUntil).filter((until): until is number => until !== null);
      return times.length === 0 ? null : Math.min(...times);
    },

    async close() {
      const reason = new Error('the HTTP client is closed');
      closing.abort(reason);
      for (const allowance of allowances.values()) allowance.close(reason);
      for (const entry of budgets.values()) entry.budget.close(reason);
      await inner.close();
    },
  };
}

/** The Range header of a request, whatever its case: ranged content and API calls are timed apart, and logged with it. */
function rangeHeader(headers: Record<string, string>): string | null {
  for (const name in headers) if (name.toLowerCase() === 'range') return headers[name];
  return null;
}
