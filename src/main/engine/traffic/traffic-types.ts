// The traffic client's public shapes: its options, what it reports about waits and requests, and its statistics.
import type { HttpClient, HttpResponse } from '../http/client.ts';
import type { Clock } from './clock.ts';
import type { CooldownSettings } from './endpoint-health.ts';

export type WaitReason = 'budget' | 'cooldown' | 'connections';

/** A request is held back: why, until when (ms epoch; null when it depends on other requests finishing), and where. */
export interface WaitInfo {
  reason: WaitReason;
  until: number | null;
  endpoint: string;
}

/** One finished request (body done, or the request failed). `url` has no query and no credentials. */
export interface RequestOutcome {
  url: string;
  endpoint: string;
  /** The Range header sent, if any: which part of a file this request was for. */
  range: string | null;
  status: number | null;
  requestId: string | null;
  /** From sending the request to the end of its body (or its failure). */
  durationMs: number;
  /** Body bytes received (0 when no response came); a body dropped early counts what arrived before. */
  bytes: number;
  /** Time spent waiting for cool-down, a connection slot and a budget token before it was sent. */
  waitedMs: number;
  /** Sent to the backup base because the primary was cooling down. */
  failover: boolean;
  error?: string;
}

export interface TrafficOptions {
  /** The Files API base; budget and cool-down apply under it. Null: no API endpoint (plain URLs only). */
  primaryBase: string | null;
  /** Where primary URLs go while the primary cools down; null: they wait instead. */
  backupBase: string | null;
  requestsPerMinute: number;
  /** Starting and highest connection allowance per endpoint (AIMD moves between 1 and this). */
  maxConnectionsPerEndpoint: number;
  cooldown: CooldownSettings;
  /** Names the budget's key when given; otherwise each request's x-api-key is hashed. Never the key itself. */
  apiKeyHash?: string;
  /** Also apply budget and cool-down to hosts outside the API bases (default false: plain URLs get only AIMD). */
  limitAllHosts?: boolean;
  /** Bucket size of each request budget (default: one second's worth, at least 1; see request-budget.ts). */
  burst?: number;
  /**
   * Least wait for a request's answer before the same request is sent again and the first answer of the two is used
   * (hedging, see request-hedge.ts; the wait follows the endpoint's measured response time). Default 250 ms; 0: never.
   */
  hedgeAfterMs?: number;
  clock?: Clock;
  onRequest?: (outcome: RequestOutcome) => void;
  onWait?: (info: WaitInfo) => void;
}

/** The HttpClient options, plus a per-request wait listener: `info` when the request starts waiting, null when it is sent. */
export interface TrafficGetOptions {
  signal?: AbortSignal;
  followRedirects?: boolean;
  onWait?: (info: WaitInfo | null) => void;
  /**
   * The body of a response this request stands in for (a hedge for a connection gone silent): while that body is
   * open on the same endpoint, the two share its connection slot instead of taking a second one. One of them is
   * dropped as soon as the other answers, and the silent one sends nothing meanwhile, so together they are one
   * request's load; were the hedge to queue for a slot of its own, the silent requests holding the slots would
   * keep the others waiting for their read timeouts, which is exactly what the hedge is there to avoid.
   */
  replaces?: HttpResponse['body'];
}

export interface EndpointStats {
  endpoint: string;
  connectionLimit: number;
  connectionMax: number;
  inUse: number;
  waitingForConnection: number;
  coolingUntil: number | null;
  consecutiveOverloads: number;
  /** Null for an endpoint without a request budget (a plain host). */
  requestsPerMinute: number | null;
  waitingForBudget: number;
  budgetWaitingUntil: number | null;
}

export interface TrafficStats {
  requests: number;
  /** Responses by status code; network failures under 'error'. */
  byStatus: Record<string, number>;
  rateLimited: number;
  overloaded: number;
  failovers: number;
  /** Requests sent a second time because the first had not answered in time (each counted in `requests` too); always set by the client. */
  hedged?: number;
  endpoints: EndpointStats[];
}

export interface TrafficClient extends HttpClient {
  get(url: string, headers: Record<string, string>, options?: TrafficGetOptions): Promise<HttpResponse>;
  stats(): TrafficStats;
  /** Changes the request budget of every endpoint (until a server's rate-limit headers say otherwise). */
  setRequestsPerMinute(requestsPerMinute: number): void;
  /** The connection allowance of an endpoint (a base/origin or any URL on it). */
  allowance(endpoint: string): number;
  /** When the next held-back request on the endpoint (or, without one, anywhere) proceeds; null when none waits. */
  waitingUntil(endpoint?: string): number | null;
  close(): Promise<void>;
}
