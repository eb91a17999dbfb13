// `npm run bench`: every benchmark of the project in one go (transfers vs aria2c and curl, resume waste, traffic control, catalog, renderer, soak); prints a summary, writes docs/benchmarks.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { environment } from './environment.ts';
import { MiB, writeRandomFile } from './files.ts';
import { killRunning, medianOrNull, rssMethod } from './measure.ts';
import { LIMIT_RATE_BYTES, startNginx, type Nginx } from './nginx.ts';
import { REPO_ROOT, TOOLS, type Tool } from './peers.ts';
import { allFailures, markdownReport, PARTS, stdoutSummary, type BenchResults, type PartId, type ReportMeta } from './report.ts';
import { runResumeWaste, type ResumeTool } from './resume-waste.ts';
import { runScenario, type Scenario } from './scenarios.ts';
import { runTrafficScenario, trafficScenarios, type TrafficResult, type TrafficScenario } from './traffic-bench.ts';

const USAGE =
  `usage: npm run bench -- [--quick] [--only PART[,PART…]] [--reps N] [--tools ${TOOLS.join(',')}] [--soak-files N] [--catalog-rows N] [--out FILE] [--keep]\n` +
  `  PART: ${PARTS.join(', ')}\n` +
  '  fault-rate also runs small-files (its figure is a ratio to it). --tools applies to throttled, loopback and resume-waste;\n' +
  '  curl (one connection) runs on loopback only, curl-ranges (the origin\'s floor) on throttled only.\n' +
  '  A run of every part without --quick writes docs/benchmarks.md; --only and --quick write test-results/benchmarks.md unless --out says.';

interface Options {
  quick: boolean;
  /** The parts to run; null = all. */
  only: Set<PartId> | null;
  reps: number;
  tools: Tool[];
  soakFiles: number;
  catalogRows: number;
  out: string | null;
  /** Keep the temp dir (logs, nginx access log, tool output; not the downloads) for debugging. */
  keep: boolean;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} takes a positive integer\n${USAGE}`);
  return n;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, only: null, reps: 0, tools: [...TOOLS], soakFiles: 0, catalogRows: 0, out: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--only') {
      const list = value().split(',');
      const unknown = list.filter((p) => !(PARTS as readonly string[]).includes(p));
      if (unknown.length) throw new Error(`--only: unknown part ${unknown.join(', ')}; one of ${PARTS.join(', ')}\n${USAGE}`);
      o.only = new Set(list as PartId[]);
    } else if (a === '--reps') o.reps = positive(a, value());
    else if (a === '--soak-files') o.soakFiles = positive(a, value());
    else if (a === '--catalog-rows') o.catalogRows = positive(a, value());
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--tools') {
      const list = value().split(',');
      if (list.some((t) => !(TOOLS as readonly string[]).includes(t))) throw new Error(`unknown tool in --tools\n${USAGE}`);
      o.tools = list as Tool[];
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  // The fault-rate figure is a ratio to the fault-free run, so that one always runs with it.
  if (o.only?.has('fault-rate')) o.only.add('small-files');
  if (o.reps === 0) o.reps = o.quick ? 1 : 3;
  // 500 files keep the default soak to ~3 minutes; --soak-files 2000 is the full one (~11 min alone).
  if (o.soakFiles === 0) o.soakFiles = o.quick ? 100 : 500;
  if (o.catalogRows === 0) o.catalogRows = o.quick ? 100_000 : 1_000_000;
  return o;
}

/** Fault-rate runs stop repeating once the part has taken this long: a run far over its target says enough, and the whole bench stays near 15 min. */
const FAULT_RATE_BUDGET_S = 180;

/** Runs the traffic scenarios; fault-rate one run at a time so it can stop at its budget. */
async function runTraffic(o: Options, want: (p: PartId) => boolean, log: (m: string) => void): Promise<TrafficResult[]> {
  const out: TrafficResult[] = [];
  for (const s of trafficScenarios(o.quick).filter((t) => want(t.id))) {
    log(`\n${s.title} (${o.reps} run(s), in process)`);
    if (s.id !== 'fault-rate') {
      out.push(await runTrafficScenario(s, o.reps, log));
      continue;
    }
    out.push(await budgeted(s, o.reps, log));
  }
  return out;
}

async function budgeted(s: TrafficScenario, reps: number, log: (m: string) => void): Promise<TrafficResult> {
  const started = performance.now();
  const results: TrafficResult[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    const one = await runTrafficScenario(s, 1, log);
    results.push({ ...one, runs: [{ ...one.runs[0], rep }] });
    const elapsed = (performance.now() - started) / 1000;
    if (one.runs[0].failures[0]?.startsWith('stuck:')) break;
    if (rep < reps && elapsed > FAULT_RATE_BUDGET_S) {
      log(`  fault-rate: ${rep} run(s) took ${elapsed.toFixed(0)} s, over the part's ${FAULT_RATE_BUDGET_S} s budget; not repeating`);
      break;
    }
  }
  const runs = results.flatMap((r) => r.runs);
  return { ...results[0], runs, seconds: medianOrNull(runs.filter((run) => run.identical === s.files).map((run) => run.seconds)) };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
  const want = (p: PartId) => o.only === null || o.only.has(p);
  const log = (m: string) => console.log(m);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'filehaul-bench-'));
  let ngx: Nginx | null = null;
  const cleanup = async () => {
    killRunning();
    await ngx?.stop();
    ngx = null;
    if (o.keep) {
      rmSync(path.join(tmp, 'www'), { recursive: true, force: true });
      console.log(`kept ${tmp}`);
    } else rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const results: BenchResults = { transfer: [], resume: null, traffic: [], catalog: null, renderer: null, soak: null, parts: {} };
  // Each part is timed, and one that throws is reported without stopping the others. A part may return why it was skipped.
  const part = async (id: PartId, fn: () => Promise<string | void>) => {
    if (!want(id)) return;
    const t0 = performance.now();
    log(`\n=== ${id} ===`);
    try {
      const skipped = await fn();
      results.parts[id] = { seconds: (performance.now() - t0) / 1000, error: null, skipped: skipped ?? null };
      if (skipped) log(`${id}: skipped: ${skipped}`);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      results.parts[id] = { seconds: (performance.now() - t0) / 1000, error: message, skipped: null };
      log(`${id}: FAILED: ${message}`);
    }
  };

  try {
    const root = path.join(tmp, 'www');
    const work = path.join(tmp, 'work');
    mkdirSync(work, { recursive: true });
    const sources = new Map<string, string>();
    // Written once, used by every part that needs it (throttled and resume-waste share the throttled file).
    const source = (dir: string, size: number) => {
      const name = size >= 1024 * MiB ? `file${size / (1024 * MiB)}g` : `file${size / MiB}`;
      const key = `${dir}/${name}`;
      if (!sources.has(key)) {
        const t0 = performance.now();
        mkdirSync(path.join(root, dir), { recursive: true });
        sources.set(key, writeRandomFile(path.join(root, dir, name), size));
        log(`wrote /${key} (${size / MiB} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
      return { urlPath: `/${key}`, sha256: sources.get(key)! };
    };
    const nginx = async () => {
      if (!ngx) {
        ngx = await startNginx(path.join(tmp, 'nginx'), root);
        log(`nginx: throttled on 127.0.0.1:${ngx.throttledPort}, loopback on 127.0.0.1:${ngx.loopbackPort}; temp ${tmp}`);
      }
      return ngx;
    };
    const throttledSize = (o.quick ? 64 : 256) * MiB;
    const warmUp = (n: Nginx) => ({ warmUpUrl: `http://127.0.0.1:${n.loopbackPort}${source('files', 1 * MiB).urlPath}`, warmUpSize: 1 * MiB });

    await part('throttled', async () => {
      const n = await nginx();
      const s: Scenario = {
        id: 'throttled',
        title: `Throttled: ${throttledSize / MiB} MiB, 10 connections at 2 MiB/s each`,
        ...source('throttled', throttledSize),
        port: n.throttledPort,
        size: throttledSize,
        connections: 10,
        // One connection (curl) says nothing of ten; ten curl ranges measure what the origin itself allows.
        tools: o.tools.filter((t) => t !== 'curl'),
        idealBytesPerSec: 10 * LIMIT_RATE_BYTES,
        ...warmUp(n),
      };
      log(`${s.title} (${o.reps} run(s) per tool)`);
      results.transfer.push(await runScenario(n, s, o.reps, work, log));
    });
    await part('loopback', async () => {
      const n = await nginx();
      const size = (o.quick ? 256 : 1024) * MiB;
      const s: Scenario = {
        id: 'loopback',
        title: `Unthrottled loopback: ${size >= 1024 * MiB ? `${size / (1024 * MiB)} GiB` : `${size / MiB} MiB`}, 16 connections (curl: 1)`,
        ...source('files', size),
        port: n.loopbackPort,
        size,
        connections: 16,
        // Sixteen curl | dd pipes would measure the pipes on 2 cores, not the origin: the floor is for the throttled part.
        tools: o.tools.filter((t) => t !== 'curl-ranges'),
        idealBytesPerSec: null,
        ...warmUp(n),
      };
      log(`${s.title} (${o.reps} run(s) per tool)`);
      results.transfer.push(await runScenario(n, s, o.reps, work, log));
    });
    await part('resume-waste', async () => {
      const tools = o.tools.filter((t): t is ResumeTool => t === 'filehaul' || t === 'aria2c');
      if (!tools.length) return '--tools names neither filehaul nor aria2c';
      const n = await nginx();
      // 4 connections (8 MiB/s): the file takes ~32 s (8 s with --quick), so a kill's bound of ≤ 1 s of transfer is ~3% of it.
      const connections = 4;
      const s = { ...source('throttled', throttledSize), port: n.throttledPort, size: throttledSize, connections, killAt: [0.3, 0.6], idealBytesPerSec: connections * LIMIT_RATE_BYTES, tools };
      log(`Resume waste: ${throttledSize / MiB} MiB, ${connections} connections at 2 MiB/s, SIGKILL at 30% and 60% (${o.reps} run(s) per tool)`);
      results.resume = await runResumeWaste(n, s, o.reps, work, log);
    });
    if (ngx) {
      await (ngx as Nginx).stop();
      ngx = null;
    }
    rmSync(root, { recursive: true, force: true });

    // small-files and fault-rate come out of one call (fault-rate needs the small-files figure); the time is split by what each took.
    if (want('small-files') || want('fault-rate')) {
      log(`\n=== ${['small-files', 'fault-rate'].filter((p) => want(p as PartId)).join(', ')} ===`);
      const t0 = performance.now();
      try {
        results.traffic = await runTraffic(o, want, log);
        for (const t of results.traffic) results.parts[t.scenario.id] = { seconds: t.runs.reduce((sum, run) => sum + run.seconds, 0), error: null, skipped: null };
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        for (const id of ['small-files', 'fault-rate'] as const) if (want(id)) results.parts[id] ??= { seconds: (performance.now() - t0) / 1000, error: message, skipped: null };
        log(`traffic: FAILED: ${message}`);
      }
    }

    const catalogRuns = o.quick ? 50 : 200;
    await part('catalog', async () => {
      const { runCatalogBench } = await import('./catalog-bench.ts');
      log(`Catalog: ${o.catalogRows.toLocaleString('en-US')} entries, ${catalogRuns} runs per query`);
      results.catalog = await runCatalogBench({ rows: o.catalogRows, runs: catalogRuns, log });
    });
    await part('renderer', async () => {
      // Loaded only here: it pulls in vite and playwright-core.
      const renderer = await import('./renderer-bench.ts');
      const missing = renderer.chromiumMissing();
      if (missing) return missing;
      log('Renderer: building the UI and measuring it in Chromium');
      results.renderer = await renderer.runRendererBench({ seconds: o.quick ? 3 : 5 });
    });
    await part('soak', async () => {
      const { runSoak } = await import('./soak.ts');
      results.soak = await runSoak({ files: o.soakFiles, log });
    });

    const meta: ReportMeta = { date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', environment: environment(), reps: o.reps, argv, rssMethod, catalogRuns, quick: o.quick };
    // Only a full run replaces the document: a partial or quick one would drop or shrink the other parts' figures.
    const full = o.only === null && !o.quick;
    const file = o.out ?? (full ? path.join(REPO_ROOT, 'docs', 'benchmarks.md') : path.join(REPO_ROOT, 'test-results', 'benchmarks.md'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, markdownReport(results, meta));
    log(`\n${stdoutSummary(results, meta)}\n\nwrote ${path.relative(REPO_ROOT, file) || file}`);
    return allFailures(results).length ? 1 : 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  },
);
