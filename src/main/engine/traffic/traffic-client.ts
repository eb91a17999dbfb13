// An HttpClient that puts every request through traffic control: failover routing, overload cool-down, adaptive connection allowance and the request budget.
import type { HttpClient, HttpResponse } from '../http/client.ts';
import { headerValue, retryAfterDelay } from '../http/retry-policy.ts';
import { systemClock } from './clock.ts';
import { ConnectionAllowance, type Release } from './connection-allowance.ts';
import { EndpointHealth, type Route } from './endpoint-health.ts';
import { RequestBudget } from './request-budget.ts';
import { apiKeyHashOf, isUnreachable, publicUrl, whenBodyDone } from './request-labels.ts';
import type { EndpointStats, RequestOutcome, TrafficClient, TrafficGetOptions, TrafficOptions, TrafficStats, WaitInfo, WaitReason } from './traffic-types.ts';

export type * from './traffic-types.ts';

export function createTrafficClient(inner: HttpClient, options: TrafficOptions): TrafficClient {
  const clock = options.clock ?? systemClock;
  const health = new EndpointHealth({ primaryBase: options.primaryBase, backupBase: options.backupBase, cooldown: options.cooldown, clock });
  const allowances = new Map<string, ConnectionAllowance>();
  /** Keyed by endpoint and key hash; each entry remembers its endpoint for per-endpoint questions. */
  const budgets = new Map<string, { endpoint: string; budget: RequestBudget }>();
  const coolingWaiters = new Map<string, number>();
  const closing = new AbortController();
  let requestsPerMinute = options.requestsPerMinute;
  const counters = { requests: 0, byStatus: {} as Record<string, number>, rateLimited: 0, overloaded: 0, failovers: 0 };

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

  /** Waits out cool-downs, then takes a connection slot and a budget token; re-routes if the endpoint fell over meanwhile. */
  async function admit(url: string, keyHash: string, signal: AbortSignal, onWait: TrafficGetOptions['onWait']): Promise<{ route: Route; release: Release; budget: RequestBudget | null; waited: boolean }> {
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
      const allowance = allowanceFor(route.endpoint);
      if (allowance.full) {
        waited = true;
        announce('connections', null, route.endpoint, onWait);
      }
      const release = await allowance.acquire(signal);
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
      return { route, release, budget, waited };
    }
  }

  /** Feeds the response's signals back into the limiters. */
  function observe(route: Route, response: HttpResponse, allowance: ConnectionAllowance, budget: RequestBudget | null): void {
    const status = response.status;
    const retryAfter = retryAfterDelay(response.headers, clock.now());
    budget?.updateFromHeaders(response.headers);
    if (status === 429) {
      counters.rateLimited++;
      allowance.on429(retryAfter);
      // Retry-After holds for everyone on this budget, not only the request that was told.
      if (retryAfter !== null) budget?.pauseUntil(clock.now() + retryAfter);
      else budget?.drain();
    } else if (status === 503 || status === 529) {
      counters.overloaded++;
      if (isLimited(route.endpoint)) health.reportOverload(route.endpoint, retryAfter);
    } else if (status >= 200 && status < 300) {
      allowance.onSuccess();
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

  return {
    async get(url, headers, getOptions: TrafficGetOptions = {}) {
      if (closing.signal.aborted) throw new Error('the HTTP client is closed');
      const signal = getOptions.signal ? AbortSignal.any([getOptions.signal, closing.signal]) : closing.signal;
      const keyHash = options.apiKeyHash ?? apiKeyHashOf(headers);
      const arrivedAt = clock.now();
      const { route, release, budget, waited } = await admit(url, keyHash, signal, getOptions.onWait);
      if (waited) getOptions.onWait?.(null);
      if (route.failover) counters.failovers++;
      const allowance = allowanceFor(route.endpoint);
      const sentAt = clock.now();
      const base = { url: publicUrl(route.url), endpoint: route.endpoint, waitedMs: sentAt - arrivedAt, failover: route.failover };
      let response: HttpResponse;
      try {
        response = await inner.get(route.url, headers, { signal: getOptions.signal, followRedirects: getOptions.followRedirects });
      } catch (error) {
        release();
        count(null);
        if (isUnreachable(error) && isLimited(route.endpoint) && !getOptions.signal?.aborted) health.reportOverload(route.endpoint);
        report({ ...base, status: null, requestId: null, durationMs: clock.now() - sentAt, error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
      count(response.status);
      observe(route, response, allowance, budget);
      const requestId = headerValue(response.headers['request-id']) ?? headerValue(response.headers['x-request-id']);
      // The slot is held until the body is done: an open body is an open connection on the endpoint.
      whenBodyDone(response.body, () => {
        release();
        report({ ...base, status: response.status, requestId, durationMs: clock.now() - sentAt });
      });
      return response;
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
