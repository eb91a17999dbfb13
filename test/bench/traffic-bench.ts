// Traffic-control benchmarks, in process: 500 small files through FilehaulService against a test origin that limits requests per minute, without and with a 30% fault rate.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SERVICE_OPTIONS, FilehaulService } from '../../src/main/service.ts';
import { makeBytes, startOrigin, type Fault } from '../fixtures/files-api-origin.ts';
import { medianOrNull } from './measure.ts';

export type TrafficScenarioId = 'small-files' | 'fault-rate';

const KEY = 'sk-ant-bench-traffic-key';
const KiB = 1024;

/** What one traffic scenario runs; everything that shapes the figure is here, so the report can print it. */
export interface TrafficScenario {
  id: TrafficScenarioId;
  title: string;
  files: number;
  sizeBytes: number;
  /** The origin's limit and the client's --rpm alike (the user sets --rpm to the limit they were given). */
  requestsPerMinute: number;
  faultRate: number;
  faults: Fault[];
  /** Service settings that differ from the defaults, for the report. */
  settings: { parallelFiles: number; readTimeoutMs: number; cooldown: { initialMs: number; maxMs: number } };
  /** Fixed seed: every run draws the same faults for the same request order. */
  seed: number;
}

export interface TrafficRun {
  rep: number;
  seconds: number;
  /** Requests the origin received, every kind and status. */
  requests: number;
  /** Every 429 the origin sent: its rate limit's and injected ones. */
  responses429: number;
  /** 429s from the origin's rate limit (not injected ones). */
  limited429: number;
  /** Faults the origin injected, by kind (status faults as their code). */
  injected: Record<string, number>;
  filesDone: number;
  /** Files whose archived bytes equal the origin's. */
  identical: number;
  failures: string[];
  failovers: number;
  /** Requests the client sent a second time because the first had not answered in time (traffic/request-hedge.ts). */
  hedged: number;
  /** The connection allowance left on the endpoint at the end (AIMD). */
  allowanceAtEnd: number;
}

export interface TrafficResult {
  scenario: TrafficScenario;
  runs: TrafficRun[];
  /** Median over runs where every file arrived byte-identical; null when none did. */
  seconds: number | null;
  /** Requests needed without any failure: one metadata and one content request per file. */
  neededRequests: number;
  /** neededRequests / rate, in seconds: the time the request budget alone imposes. */
  idealSeconds: number;
}

/** R = 6000 a minute: 500 files need 1000 requests, so the budget alone takes 10 s, long enough to measure pacing. */
export const BENCH_RPM = 6000;

export function trafficScenarios(quick: boolean): TrafficScenario[] {
  const files = quick ? 200 : 500;
  const sizeBytes = 64 * KiB;
  const intervalMs = 60_000 / BENCH_RPM;
  const base = {
    files,
    sizeBytes,
    requestsPerMinute: BENCH_RPM,
    // The default queue (3 files at once) and the default cool-down; reads time out after 2 s so a stall costs 2 s, not 10 min.
    settings: { parallelFiles: DEFAULT_SERVICE_OPTIONS.engine.parallelFiles, readTimeoutMs: 2000, cooldown: { initialMs: 1000, maxMs: 10_000 } },
    seed: 20251,
  };
  return [
    { ...base, id: 'small-files', title: `3. Small files: ${files} × 64 KiB, origin allows ${BENCH_RPM} requests a minute`, faultRate: 0, faults: [] },
    {
      ...base,
      id: 'fault-rate',
      title: `4. Fault rate: the same ${files} files, 30% of content requests fail (429/503/529/reset/stall)`,
      faultRate: 0.3,
      faults: [
        // A 429 says when the next token is due, as the origin's own limiter would: one interval.
        { kind: 'status', status: 429, headers: { 'retry-after-ms': String(intervalMs) } },
        { kind: 'status', status: 503 },
        { kind: 'status', status: 529 },
        { kind: 'reset', afterBytes: sizeBytes / 2 },
        { kind: 'stall', afterBytes: sizeBytes / 2 },
      ],
    },
  ];
}

/** No request and no finished file for this long means the run is stuck (longest legitimate quiet: a 60 s backoff cap). */
const STUCK_AFTER_MS = 90_000;

type Outcome = { id: string; error: string | null; finalPath: string | null };

async function runOnce(s: TrafficScenario, rep: number, files: Map<string, Buffer>, log: (message: string) => void): Promise<TrafficRun> {
  const origin = await startOrigin({ apiKey: KEY, rateLimit: { requestsPerMinute: s.requestsPerMinute } });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `filehaul-bench-${s.id}-`));
  for (const [id, bytes] of files) origin.addFile({ id, filename: `${id}.bin`, bytes, createdAt: '2025-06-15T12:00:00Z' });
  origin.setFaultRate(s.faultRate, s.faults, s.seed);
  let service: FilehaulService | null = null;
  let ticker: NodeJS.Timeout | undefined;
  try {
    service = await FilehaulService.open({
      ...DEFAULT_SERVICE_OPTIONS,
      dataDir,
      apiBase: origin.url,
      apiKey: KEY,
      requestsPerMinute: s.requestsPerMinute,
      readTimeoutMs: s.settings.readTimeoutMs,
      cooldown: s.settings.cooldown,
      engine: { ...DEFAULT_SERVICE_OPTIONS.engine, parallelFiles: s.settings.parallelFiles },
    });
    const open = service;
    const started = performance.now();
    const outcomes = new Map<string, Outcome>();
    let lastActivity = Date.now();
    let stuck: string | null = null;
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    ticker = setInterval(() => {
      const seconds = Math.round((performance.now() - started) / 1000);
      const last = origin.requests.at(-1);
      lastActivity = Math.max(lastActivity, last?.endedAt ?? last?.startedAt ?? 0);
      const endpoint = open.http.stats().endpoints.find((e) => e.endpoint === origin.url);
      // A line every 10 s, so a slow run shows where it is and what the traffic client holds.
      if (seconds % 10 === 0) {
        const cooling = endpoint?.coolingUntil ? `, cooling ${((endpoint.coolingUntil - Date.now()) / 1000).toFixed(1)} s more` : '';
        log(`    … ${seconds} s: ${outcomes.size}/${s.files} files, ${origin.requests.length} requests, allowance ${endpoint?.connectionLimit}, in use ${endpoint?.inUse}${cooling}`);
      }
      if (Date.now() - lastActivity > STUCK_AFTER_MS) {
        const waiting = [...files.keys()].filter((id) => !outcomes.has(id));
        stuck = `stuck: no request and no finished file for ${STUCK_AFTER_MS / 1000} s; ${waiting.length} file(s) unfinished (${waiting.slice(0, 3).join(', ')}${waiting.length > 3 ? ', …' : ''})`;
        stop();
      }
    }, 1000);
    // As `filehaul get id1 id2 …` does: prepare all, download all at once; the queue lets parallelFiles run.
    const all = Promise.all(
      open.prepare([...files.keys()]).map(async (item) => {
        const outcome: Outcome = 'error' in item ? { id: item.input, error: item.error, finalPath: null } : await finish(item.input, open.download(item.record, item.source));
        outcomes.set(outcome.id, outcome);
        lastActivity = Date.now();
      }),
    );
    await Promise.race([all, stopped]);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(ticker);
    if (stuck) {
      // Let what can stop stop before the catalog closes; a download that hangs never settles and is left behind.
      open.pauseAll();
      await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    }
    let identical = 0;
    const failures: string[] = stuck ? [stuck] : [];
    for (const outcome of outcomes.values()) {
      // Once stuck, the queued files were paused by the bench itself: only real failures are worth listing.
      if (outcome.finalPath === null && !(stuck && outcome.error === 'paused')) failures.push(`${outcome.id}: ${outcome.error}`);
      if (outcome.finalPath === null) continue;
      if (readFileSync(path.join(dataDir, outcome.finalPath)).equals(files.get(outcome.id)!)) identical++;
      else failures.push(`${outcome.id}: archived bytes differ from the origin's`);
    }
    const injected: Record<string, number> = {};
    for (const entry of origin.requests) {
      if (!entry.fault) continue;
      const name = entry.fault === 'status' ? String(entry.status) : entry.fault;
      injected[name] = (injected[name] ?? 0) + 1;
    }
    return {
      rep,
      seconds,
      requests: origin.requests.length,
      responses429: origin.requests.filter((entry) => entry.status === 429).length,
      limited429: origin.requests.filter((entry) => entry.rateLimited).length,
      injected,
      filesDone: [...outcomes.values()].filter((outcome) => outcome.finalPath !== null).length,
      identical,
      failures,
      failovers: open.http.stats().failovers,
      hedged: open.http.stats().hedged ?? 0,
      allowanceAtEnd: open.http.allowance(origin.url),
    };
  } finally {
    clearInterval(ticker);
    await service?.close();
    await origin.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function finish(id: string, download: ReturnType<FilehaulService['download']>): Promise<Outcome> {
  const outcome = await download;
  if (outcome.state === 'done') return { id, error: null, finalPath: outcome.record.finalPath };
  return { id, error: outcome.state === 'failed' ? outcome.message : outcome.state, finalPath: null };
}

/** Runs the scenario `reps` times, each with a fresh origin (full bucket) and a fresh data dir. */
export async function runTrafficScenario(s: TrafficScenario, reps: number, log: (message: string) => void): Promise<TrafficResult> {
  const files = new Map<string, Buffer>();
  for (let n = 0; n < s.files; n++) files.set(`file_bench${String(n).padStart(4, '0')}`, makeBytes(s.sizeBytes, 9000 + n));
  const runs: TrafficRun[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    const run = await runOnce(s, rep, files, log);
    runs.push(run);
    // A stuck run says all there is to say; more runs would only wait out the same hang.
    const stuck = run.failures[0]?.startsWith('stuck:') === true;
    const faults = Object.entries(run.injected).map(([kind, count]) => `${kind}×${count}`).join(' ') || 'none';
    log(
      `  ${`${s.id}-${rep}`.padEnd(16)} ${run.seconds.toFixed(2).padStart(7)} s  requests ${run.requests}  429s ${run.responses429} (rate limit ${run.limited429})  ` +
        `injected ${faults}  files ${run.identical}/${s.files} identical  hedged ${run.hedged}  allowance at end ${run.allowanceAtEnd}` +
        (run.failures.length ? `  FAILED: ${run.failures.slice(0, 3).join('; ')}` : ''),
    );
    if (stuck) break;
  }
  const good = runs.filter((run) => run.identical === s.files);
  const neededRequests = s.files * 2;
  return { scenario: s, runs, seconds: medianOrNull(good.map((run) => run.seconds)), neededRequests, idealSeconds: (neededRequests * 60) / s.requestsPerMinute };
}
