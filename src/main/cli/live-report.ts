// `filehaul status` lines for traffic running in other processes: each endpoint's allowance, cool-down and budget wait.
import type { LiveTraffic } from '../live-traffic.ts';

/** One text line per endpoint of every running process, under a heading naming the process. */
export function liveTrafficLines(live: readonly LiveTraffic[], now: number): string[] {
  const lines: string[] = [];
  for (const { pid, writtenAt, stats } of live) {
    lines.push(`Running now: pid ${pid}, ${stats.requests} requests so far (${stats.rateLimited} answered 429, ${stats.overloaded} 503/529), figures from ${ago(now - writtenAt)}`);
    for (const endpoint of stats.endpoints) {
      const parts = [`${endpoint.connectionLimit} of ${endpoint.connectionMax} connections allowed, ${endpoint.inUse} in use`];
      if (endpoint.waitingForConnection > 0) parts.push(`${endpoint.waitingForConnection} waiting for a connection`);
      if (endpoint.requestsPerMinute !== null) parts.push(`budget ${Math.round(endpoint.requestsPerMinute)} requests/min`);
      if (endpoint.budgetWaitingUntil !== null && endpoint.budgetWaitingUntil > now) {
        parts.push(`${endpoint.waitingForBudget} waiting for the budget until ${clock(endpoint.budgetWaitingUntil)}`);
      }
      if (endpoint.coolingUntil !== null && endpoint.coolingUntil > now) parts.push(`overloaded (503/529): cooling down until ${clock(endpoint.coolingUntil)}`);
      lines.push(`  ${endpoint.endpoint}: ${parts.join('; ')}`);
    }
  }
  return lines;
}

/** The same as JSON objects, one per endpoint, for `status --json` (told apart from downloads by `endpoint`). */
export function liveTrafficObjects(live: readonly LiveTraffic[]): object[] {
  return live.flatMap(({ pid, writtenAt, stats }) =>
    stats.endpoints.map((endpoint) => ({
      endpoint: endpoint.endpoint,
      pid,
      updated_at: new Date(writtenAt).toISOString(),
      allowed_connections: endpoint.connectionLimit,
      max_connections: endpoint.connectionMax,
      connections_in_use: endpoint.inUse,
      waiting_for_connection: endpoint.waitingForConnection,
      requests_per_minute: endpoint.requestsPerMinute,
      waiting_for_budget: endpoint.waitingForBudget,
      budget_waiting_until: endpoint.budgetWaitingUntil === null ? null : new Date(endpoint.budgetWaitingUntil).toISOString(),
      cooling_until: endpoint.coolingUntil === null ? null : new Date(endpoint.coolingUntil).toISOString(),
    })),
  );
}

function ago(milliseconds: number): string {
  return milliseconds < 1000 ? 'just now' : `${(milliseconds / 1000).toFixed(1)} s ago`;
}

function clock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19) + ' UTC';
}
