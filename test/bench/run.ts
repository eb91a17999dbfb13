// `npm run bench`: filehaul vs aria2c (and curl) against a private nginx; prints a summary, writes docs/benchmarks.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MiB, writeRandomFile } from './files.ts';
import { killRunning, rssMethod } from './measure.ts';
import { LIMIT_RATE_BYTES, startNginx, type Nginx } from './nginx.ts';
import { REPO_ROOT, type Tool } from './peers.ts';
import { markdownReport, stdoutSummary, type ReportMeta } from './report.ts';
import { runScenario, type Scenario, type ScenarioId, type ScenarioResult } from './scenarios.ts';
import { runTrafficScenario, trafficScenarios, type TrafficResult, type TrafficScenarioId } from './traffic-bench.ts';

const USAGE =
  'usage: npm run bench -- [--quick] [--only throttled|loopback|small-files|fault-rate] [--reps N] [--tools filehaul,aria2c,curl] [--keep]\n' +
  '  small-files and fault-rate run in process against the test origin (no nginx needed); --only fault-rate also runs\n' +
  '  small-files, the fault-free run its time is compared with. --tools applies to throttled and loopback only.';
const ONLY: readonly string[] = ['throttled', 'loopback', 'small-files', 'fault-rate'];

interface Options {
  quick: boolean;
  only: ScenarioId | TrafficScenarioId | null;
  reps: number;
  tools: Tool[];
  /** Keep the temp dir (logs, nginx access log, tool output; not the downloads) for debugging. */
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, only: null, reps: 0, tools: ['filehaul', 'aria2c', 'curl'], keep: false };
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
      const v = value();
      if (!ONLY.includes(v)) throw new Error(`--only takes one of ${ONLY.join(', ')}\n${USAGE}`);
      o.only = v as Options['only'];
    } else if (a === '--reps') {
      o.reps = Number(value());
      if (!Number.isInteger(o.reps) || o.reps < 1) throw new Error(`--reps takes a positive integer\n${USAGE}`);
    } else if (a === '--tools') {
      const list = value().split(',');
      if (list.some((t) => !['filehaul', 'aria2c', 'curl'].includes(t))) throw new Error(`unknown tool in --tools\n${USAGE}`);
      o.tools = list as Tool[];
    } else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (o.reps === 0) o.reps = o.quick ? 1 : 3;
  return o;
}

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
  } catch (e) {
    // nginx -v prints to stderr
    const err = e as { stderr?: string };
    return String(err.stderr ?? '').split('\n')[0].trim() || 'n/a';
  }
}

/** File system type of the mount holding `dir` (downloads are written there, so it matters for the loopback case). */
function fsType(dir: string): string {
  try {
    let best = { mount: '', type: 'unknown' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mount, type] = line.split(' ');
      if (mount && type && (dir === mount || dir.startsWith(mount.endsWith('/') ? mount : mount + '/')) && mount.length >= best.mount.length)
        best = { mount, type };
    }
    return `${best.type} mounted at ${best.mount}`;
  } catch {
    return 'unknown';
  }
}

function environment(): string[] {
  // nginx -v prints to stderr and exits 0.
  const v = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  const nginxV = `${v.stderr ?? ''}${v.stdout ?? ''}`.trim() || 'nginx n/a';
  const cpu = os.cpus();
  return [
    `Node ${process.version}, ${nginxV.replace(/^nginx version: /u, '')}, ${firstLine('aria2c', ['--version'])}, ${firstLine('curl', ['--version']).split(' (')[0]}`,
    `${cpu[0]?.model.trim() ?? 'unknown CPU'} × ${cpu.length}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Linux ${os.release()}`,
    `temp dir (sources and downloads): ${os.tmpdir()} (${fsType(os.tmpdir())}); set TMPDIR to move it, e.g. TMPDIR=/dev/shm to take the disk out`,
    `peak RSS: ${rssMethod === 'time' ? '`/usr/bin/time -f %M`' : 'polled VmHWM of the direct child (a lower bound; /usr/bin/time missing)'}`,
  ];
}

function scenarios(o: Options, root: string, ngx: Nginx, log: (m: string) => void): Scenario[] {
  const list: Scenario[] = [];
  const make = (dir: string, name: string, size: number) => {
    const t0 = performance.now();
    mkdirSync(path.join(root, dir), { recursive: true });
    const sha256 = writeRandomFile(path.join(root, dir, name), size);
    log(`wrote /${dir}/${name} (${size / MiB} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return sha256;
  };
  if (o.only === null || o.only === 'throttled') {
    const size = (o.quick ? 64 : 256) * MiB;
    const name = `file${size / MiB}`;
    list.push({
      id: 'throttled',
      title: `1. Throttled: ${size / MiB} MiB, 10 connections at 2 MiB/s each`,
      urlPath: `/throttled/${name}`,
      port: ngx.throttledPort,
      size,
      sha256: make('throttled', name, size),
      connections: 10,
      tools: o.tools.filter((t) => t !== 'curl'),
      idealBytesPerSec: 10 * LIMIT_RATE_BYTES,
    });
  }
  if (o.only === null || o.only === 'loopback') {
    const size = (o.quick ? 256 : 1024) * MiB;
    const name = size >= 1024 * MiB ? `file${size / (1024 * MiB)}g` : `file${size / MiB}`;
    list.push({
      id: 'loopback',
      title: `2. Unthrottled loopback: ${size >= 1024 * MiB ? `${size / (1024 * MiB)} GiB` : `${size / MiB} MiB`}, 16 connections (curl: 1)`,
      urlPath: `/files/${name}`,
      port: ngx.loopbackPort,
      size,
      sha256: make('files', name, size),
      connections: 16,
      tools: o.tools,
      idealBytesPerSec: null,
    });
  }
  return list;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
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

  try {
    const results: ScenarioResult[] = [];
    if (o.only === null || o.only === 'throttled' || o.only === 'loopback') {
      const root = path.join(tmp, 'www');
      const work = path.join(tmp, 'work');
      mkdirSync(root, { recursive: true });
      mkdirSync(work, { recursive: true });
      ngx = await startNginx(path.join(tmp, 'nginx'), root);
      log(`nginx: throttled on 127.0.0.1:${ngx.throttledPort}, loopback on 127.0.0.1:${ngx.loopbackPort}; temp ${tmp}`);
      for (const s of scenarios(o, root, ngx, log)) {
        log(`\n${s.title} (${o.reps} run(s) per tool)`);
        results.push(await runScenario(ngx, s, o.reps, work, log));
      }
      await ngx.stop();
      ngx = null;
    }

    // The fault-rate figure is a ratio to the fault-free run, so that one always runs first.
    const traffic: TrafficResult[] = [];
    if (o.only === null || o.only === 'small-files' || o.only === 'fault-rate') {
      for (const s of trafficScenarios(o.quick).filter((t) => o.only !== 'small-files' || t.id === 'small-files')) {
        log(`\n${s.title} (${o.reps} run(s), in process)`);
        traffic.push(await runTrafficScenario(s, o.reps, log));
      }
    }

    const meta: ReportMeta = { date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', environment: environment(), reps: o.reps, argv, rssMethod };
    const docs = path.join(REPO_ROOT, 'docs');
    mkdirSync(docs, { recursive: true });
    writeFileSync(path.join(docs, 'benchmarks.md'), markdownReport(results, traffic, meta));
    log(`\n${stdoutSummary(results, traffic, meta)}\n\nwrote docs/benchmarks.md`);

    const failed = results.flatMap((r) => r.tools.flatMap((t) => t.runs.filter((x) => !x.ok)));
    const trafficFailed = traffic.flatMap((t) => t.runs.filter((run) => run.failures.length > 0));
    return failed.length + trafficFailed.length ? 1 : 0;
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
