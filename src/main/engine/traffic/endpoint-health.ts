// Overload cool-downs per endpoint (503/529), opened circuit-breaker style once overload is sustained, and failover: while the primary API base cools down, its URLs are routed to the backup base.
import type { Clock } from './clock.ts';

export interface CooldownSettings {
  /** First cool-down after an overload. */
  initialMs: number;
  /** Longest cool-down; each cool-down opened again before a success doubles the previous one up to this. */
  maxMs: number;
  /** Overload answers in a row (no success between) that open the cool-down; default 5 (see EndpointHealth). */
  openAfter?: number;
}

export const DEFAULT_COOLDOWN: CooldownSettings = { initialMs: 30_000, maxMs: 600_000 };

/** Overload answers in a row that mean "the endpoint is overloaded" rather than "one request was unlucky". */
export const DEFAULT_OPEN_AFTER = 5;

export interface EndpointHealthOptions {
  primaryBase: string | null;
  backupBase: string | null;
  cooldown?: CooldownSettings;
  clock: Clock;
}

/** Where a request should go now. */
export interface Route {
  url: string;
  endpoint: string;
  /** True when a primary URL was rewritten onto the backup base. */
  failover: boolean;
  /** Null when the endpoint can take the request now; else when it can (every candidate is cooling down). */
  availableAt: number | null;
}

interface Base {
  /** `origin + path` without a trailing slash: the endpoint's name. */
  name: string;
  origin: string;
  path: string;
}

interface State {
  /** Overload answers since the last success. */
  run: number;
  /** Cool-downs opened since the last success: each doubles the one before. */
  cooldowns: number;
  until: number;
}

/**
 * A circuit breaker per endpoint (closed → open → half-open). An isolated 503/529 among successes is one busy backend
 * or one unlucky request, not an outage: the request retries on its own with a short backoff (or its Retry-After)
 * and everyone else carries on. Only sustained overload opens the endpoint-wide cool-down: `openAfter` (default 5)
 * overload answers in a row with no success between. If a share p of answers are overloads at random, a run of five
 * starts at a given answer with probability p⁵: at p = 15% (a busy but working endpoint, or the 30%-fault benchmark's
 * 503/529 share) that is 1 in 13,000 answers, while a real outage (every answer an overload) opens it within five
 * answers: one round of parallel connections, or about a second of one connection's short retries. (Three in a row
 * opened it in about half the benchmark's runs of 1,200 answers: retries bunch overloads together.) Once a cool-down
 * has ended, the endpoint is half-open: the next overload before any success reopens it at once, doubled. An
 * unreachable endpoint (connection refused, no route) opens it at once: every connection to that address fails
 * alike, so one is evidence enough.
 */
export class EndpointHealth {
  readonly #clock: Clock;
  readonly #cooldown: CooldownSettings;
  readonly #openAfter: number;
  readonly #primary: Base | null;
  readonly #backup: Base | null;
  readonly #states = new Map<string, State>();

  constructor(options: EndpointHealthOptions) {
    this.#clock = options.clock;
    this.#cooldown = options.cooldown ?? DEFAULT_COOLDOWN;
    if (!(this.#cooldown.initialMs > 0) || !(this.#cooldown.maxMs >= this.#cooldown.initialMs)) {
      throw new RangeError(`cool-down must satisfy 0 < initial <= max, got ${this.#cooldown.initialMs} / ${this.#cooldown.maxMs}`);
    }
    this.#openAfter = this.#cooldown.openAfter ?? DEFAULT_OPEN_AFTER;
    if (!Number.isInteger(this.#openAfter) || this.#openAfter < 1) throw new RangeError(`cool-down openAfter must be a positive integer, got ${this.#openAfter}`);
    this.#primary = options.primaryBase ? parseBase(options.primaryBase) : null;
    this.#backup = options.backupBase ? parseBase(options.backupBase) : null;
  }

  get primaryEndpoint(): string | null {
    return this.#primary?.name ?? null;
  }

  get backupEndpoint(): string | null {
    return this.#backup?.name ?? null;
  }

  /** The endpoint a URL belongs to: a configured base it lies under, else its origin (one plain host is one endpoint). */
  endpointOf(url: string): string {
    const parsed = new URL(url);
    for (const base of [this.#primary, this.#backup]) if (base && isUnder(parsed, base)) return base.name;
    return parsed.origin;
  }

  /** Whether the endpoint is one of the configured API bases. */
  isApiEndpoint(endpoint: string): boolean {
    return endpoint === this.#primary?.name || endpoint === this.#backup?.name;
  }

  /**
   * A 503/529 (or, with `immediate`, an unreachable endpoint). Opens the cool-down when overload is sustained (see the
   * class comment): 30 s, then doubling per cool-down in a row up to the max, or longer if the server's Retry-After
   * says so. Overloads reported during a cool-down answer requests sent before it began and change nothing. Returns
   * when the cool-down ends, or null when this overload alone does not open one (the request retries by itself).
   */
  reportOverload(endpoint: string, retryAfterMs?: number | null, options: { immediate?: boolean } = {}): number | null {
    const now = this.#clock.now();
    const state = this.#states.get(endpoint) ?? { run: 0, cooldowns: 0, until: 0 };
    this.#states.set(endpoint, state);
    if (now < state.until) return state.until;
    state.run++;
    const halfOpen = state.cooldowns > 0;
    if (!options.immediate && !halfOpen && state.run < this.#openAfter) return null;
    state.cooldowns++;
    const duration = Math.min(this.#cooldown.maxMs, this.#cooldown.initialMs * 2 ** (state.cooldowns - 1));
    state.until = now + Math.max(duration, retryAfterMs ?? 0);
    return state.until;
  }

  /** A success closes the breaker: the run of overloads ends and the next cool-down starts from the initial one (a running one is left to end). */
  reportSuccess(endpoint: string): void {
    const state = this.#states.get(endpoint);
    if (state) state.run = state.cooldowns = 0;
  }

  /** When the endpoint's cool-down ends (default: the primary's), or null when it is not cooling down. */
  coolingUntil(endpoint: string | null = this.primaryEndpoint): number | null {
    if (endpoint === null) return null;
    const until = this.#states.get(endpoint)?.until ?? 0;
    return until > this.#clock.now() ? until : null;
  }

  /** Overload answers in a row on the endpoint (0 after a success). */
  consecutiveOverloads(endpoint: string): number {
    return this.#states.get(endpoint)?.run ?? 0;
  }

  /** Cool-downs opened in a row on the endpoint (0 after a success); the next one lasts initial × 2^this, up to the max. */
  cooldownsInRow(endpoint: string): number {
    return this.#states.get(endpoint)?.cooldowns ?? 0;
  }

  /**
   * Where to send `url`: URLs under the primary base go to the backup base while the primary cools down (and back
   * once it has); every other URL stays as it is. The request keeps its headers, so a resumed range carries the same
   * If-Range validators to the backup.
   */
  route(url: string): Route {
    const parsed = new URL(url);
    const primary = this.#primary;
    if (!primary || !isUnder(parsed, primary)) {
      const endpoint = this.endpointOf(url);
      return { url, endpoint, failover: false, availableAt: this.coolingUntil(endpoint) };
    }
    const primaryUntil = this.coolingUntil(primary.name);
    if (primaryUntil === null || !this.#backup) return { url, endpoint: primary.name, failover: false, availableAt: primaryUntil };
    const backupUrl = rebase(parsed, primary, this.#backup);
    const backupUntil = this.coolingUntil(this.#backup.name);
    if (backupUntil === null) return { url: backupUrl, endpoint: this.#backup.name, failover: true, availableAt: null };
    // Both down: wait for whichever comes back first.
    return primaryUntil <= backupUntil
      ? { url, endpoint: primary.name, failover: false, availableAt: primaryUntil }
      : { url: backupUrl, endpoint: this.#backup.name, failover: true, availableAt: backupUntil };
  }

  /** Waits until the endpoint (default: the primary) is out of its cool-down, however often it is extended meanwhile. */
  async waitUntilAvailable(signal?: AbortSignal, endpoint: string | null = this.primaryEndpoint): Promise<void> {
    for (;;) {
      const until = this.coolingUntil(endpoint);
      if (until === null) return;
      await this.#clock.sleep(until - this.#clock.now(), signal);
    }
  }
}

function parseBase(base: string): Base {
  const parsed = new URL(base);
  const path = parsed.pathname.replace(/\/+$/, '');
  return { name: parsed.origin + path, origin: parsed.origin, path };
}

/** Same origin, and the path is the base path or below it at a segment boundary (`/v1` covers `/v1/x`, not `/v10`). */
function isUnder(url: URL, base: Base): boolean {
  if (url.origin !== base.origin) return false;
  return base.path === '' || url.pathname === base.path || url.pathname.startsWith(`${base.path}/`);
}

function rebase(url: URL, from: Base, to: Base): string {
  return to.origin + to.path + url.pathname.slice(from.path.length) + url.search + url.hash;
}
