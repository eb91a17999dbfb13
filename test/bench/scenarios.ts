// Benchmark scenarios: runs each tool on one file several times, verifies the bytes and counts nginx requests.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { MiB, fileSize, sha256File } from './files.ts';
import { medianOrNull, tail, timedRun } from './measure.ts';
import { countRequests, settleLog, type Nginx, type RequestCount } from './nginx.ts';
import { invocation, parseFilehaulEvents, type FilehaulEvents, type Tool } from './peers.ts';

export type ScenarioId = 'throttled' | 'loopback';

export interface Scenario {
  id: ScenarioId;
  title: string;
  /** Path under the nginx root and in the URL, e.g. /throttled/file256. */
  urlPath: string;
  port: number;
  size: number;
  sha256: string;
  connections: number;
  tools: Tool[];
  /** Bytes per second if every connection runs at its limit (throttled only). */
  idealBytesPerSec: number | null;
  /** A small file each tool downloads once, untimed, before the timed runs (see warmUp), and its size. */
  warmUpUrl: string;
  warmUpSize: number;
}

export interface RunRecord {
  rep: number;
  seconds: number;
  rssKiB: number | null;
  cpuSeconds: number | null;
  requests: RequestCount;
  ok: boolean;
  /** Why the run does not count (non-zero exit, missing or mismatched output). */
  failure: string | null;
  events: FilehaulEvents | null;
  /** filehaul only: where the wall time went, from its event timestamps (seconds). */
  phases: Phases | null;
}

export interface Phases {
  /** Spawn → first event: Node start-up, module loading, catalog open. */
  startup: number;
  /** First event → `verifying`: the transfer itself. */
  transfer: number;
  /** `verifying` → `done`: hashing and placing the file. */
  verify: number;
  /** `done` → process exit. */
  exit: number;
}

function phases(ev: FilehaulEvents, startedAt: number, endedAt: number): Phases | null {
  if (ev.firstAt === null || ev.doneAt === null) return null;
  const verifyingAt = ev.verifyingAt ?? ev.doneAt;
  return {
    startup: (ev.firstAt - startedAt) / 1000,
    transfer: (verifyingAt - ev.firstAt) / 1000,
    verify: (ev.doneAt - verifyingAt) / 1000,
    exit: (endedAt - ev.doneAt) / 1000,
  };
}

export interface ToolResult {
  tool: Tool;
  display: string;
  runs: RunRecord[];
  /** Medians over the successful runs; null when none succeeded. */
  seconds: number | null;
  mibPerSec: number | null;
  rssKiB: number | null;
  cpuSeconds: number | null;
  requests: number | null;
}

export interface ScenarioResult {
  scenario: Scenario;
  url: string;
  tools: ToolResult[];
}

export function scenarioUrl(s: Scenario): string {
  return `http://127.0.0.1:${s.port}${s.urlPath}`;
}

/** A run's output dir and the home dir filehaul got beside it (see peers.ts). */
function removeRunDirs(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}-home`, { recursive: true, force: true });
}

async function oneRun(ngx: Nginx, s: Scenario, tool: Tool, rep: number, workDir: string, log: (m: string) => void) {
  const label = `${s.id}-${tool}-${rep}`;
  const dir = path.join(workDir, label);
  const inv = invocation(tool, scenarioUrl(s), path.basename(s.urlPath), dir, s.connections, s.size);
  const timeoutMs = s.idealBytesPerSec ? (s.size / s.idealBytesPerSec) * 6000 + 60_000 : 300_000;
  const offset = ngx.logOffset();
  const r = await timedRun(inv.command, workDir, label, timeoutMs);
  // nginx logs a request when it ends: wait until the whole file shows up as sent (or give up after 2 s).
  const lines = await settleLog(ngx, offset, (l) => countRequests(l, s.urlPath).bytes >= s.size);
  const requests = countRequests(lines, s.urlPath);
  const events = tool === 'filehaul' ? parseFilehaulEvents(readFileSync(r.stdoutFile, 'utf8')) : null;

  let failure: string | null = null;
  if (r.code !== 0) {
    failure = `exit ${r.code ?? r.signal}: ${tail(r.stderrFile, 600).trim() || tail(r.stdoutFile, 600).trim()}`;
  } else {
    const out = inv.output();
    if (out === null) failure = `output file not found under ${dir}`;
    else if (fileSize(out) !== s.size) failure = `output size ${fileSize(out)} != ${s.size} (${out})`;
    else if ((await sha256File(out)) !== s.sha256) failure = `sha256 mismatch (${out})`;
  }
  removeRunDirs(dir);
  // Flush this run's dirty pages now, so their write-back does not land in the next tool's timing.
  execFileSync('sync');

  const mibps = s.size / MiB / r.seconds;
  const rss = r.rssKiB === null ? 'n/a' : `${(r.rssKiB / 1024).toFixed(0)} MiB`;
  const cpu = r.cpuSeconds === null ? '' : `  CPU ${r.cpuSeconds.toFixed(2)} s`;
  log(
    `  ${label.padEnd(22)} ${r.seconds.toFixed(2).padStart(7)} s ${mibps.toFixed(1).padStart(8)} MiB/s  RSS ${rss.padStart(8)}${cpu}  ` +
      `GETs ${requests.content}${requests.head ? ` HEADs ${requests.head}` : ''}${requests.other ? ` other ${requests.other}` : ''}` +
      `${failure ? `  FAILED: ${failure}` : '  ok'}`,
  );
  const ph = events ? phases(events, r.startedAt, r.endedAt) : null;
  if (ph) {
    log(
      `    filehaul phases: start-up ${ph.startup.toFixed(2)} s, transfer ${ph.transfer.toFixed(2)} s ` +
        `(${(s.size / MiB / ph.transfer).toFixed(1)} MiB/s), verify ${ph.verify.toFixed(2)} s, exit ${ph.exit.toFixed(2)} s`,
    );
  }
  const record: RunRecord = { rep, seconds: r.seconds, rssKiB: r.rssKiB, cpuSeconds: r.cpuSeconds, requests, ok: failure === null, failure, events, phases: ph };
  return { record, display: inv.display };
}

/**
 * One untimed download of a small file per tool, so that the timed runs are what every run but the first after an
 * install is: the tool's program files in the page cache, and filehaul's modules in Node's compile cache (a run
 * that compiles them first takes ~0.3 s longer). Without it the first run of a fresh clone carries that alone.
 */
async function warmUp(s: Scenario, workDir: string, log: (m: string) => void): Promise<void> {
  const times: string[] = [];
  for (const tool of s.tools) {
    const label = `${s.id}-${tool}-warm-up`;
    const dir = path.join(workDir, label);
    const inv = invocation(tool, s.warmUpUrl, path.basename(new URL(s.warmUpUrl).pathname), dir, s.connections, s.warmUpSize);
    const r = await timedRun(inv.command, workDir, label, 60_000);
    times.push(`${tool} ${r.seconds.toFixed(2)} s${r.code === 0 ? '' : ` (exit ${r.code ?? r.signal})`}`);
    removeRunDirs(dir);
  }
  log(`  warm-up (untimed, ${s.warmUpUrl.replace(/^.*\//, '')}): ${times.join(', ')}`);
}

/** Runs every tool `reps` times, rotating the order each repetition so no tool always goes first. */
export async function runScenario(
  ngx: Nginx,
  s: Scenario,
  reps: number,
  workDir: string,
  log: (m: string) => void,
): Promise<ScenarioResult> {
  const byTool = new Map<Tool, ToolResult>(
    s.tools.map((t) => [t, { tool: t, display: '', runs: [], seconds: null, mibPerSec: null, rssKiB: null, cpuSeconds: null, requests: null }]),
  );
  await warmUp(s, workDir, log);
  for (let rep = 0; rep < reps; rep++) {
    const order = s.tools.map((_, i) => s.tools[(i + rep) % s.tools.length]);
    for (const tool of order) {
      const { record, display } = await oneRun(ngx, s, tool, rep + 1, workDir, log);
      const tr = byTool.get(tool)!;
      tr.display = display;
      tr.runs.push(record);
    }
  }
  for (const tr of byTool.values()) {
    const good = tr.runs.filter((r) => r.ok);
    tr.seconds = medianOrNull(good.map((r) => r.seconds));
    tr.mibPerSec = tr.seconds === null ? null : s.size / MiB / tr.seconds;
    tr.rssKiB = medianOrNull(good.map((r) => r.rssKiB));
    tr.cpuSeconds = medianOrNull(good.map((r) => r.cpuSeconds));
    tr.requests = medianOrNull(good.map((r) => r.requests.content));
  }
  return { scenario: s, url: scenarioUrl(s), tools: [...byTool.values()] };
}
