// Soak benchmark: 2,000 files of mixed sizes through a faulty test origin in one run, the client in a child process; reports outcomes, RSS over the run and fds before/after.
// Usage: node test/bench/soak.ts [--files N] [--fault-rate R] [--seed S] [--parallel N] [--spare-probe-resets] [--json] [--keep]
// This file runs it (origin, client child, watchdog, the child's JSON lines) and is its command line; the files and faults
// are in soak-workload.ts, the figures and the text summary in soak-results.ts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startOrigin } from '../fixtures/files-api-origin.ts';
import type { ChildLine, FdCount, MemorySample } from './soak-child.ts';
import { formatSoak, soakResult } from './soak-results.ts';
import { MiB, planFiles, setSoakFaults } from './soak-workload.ts';

export { formatSoak } from './soak-results.ts';
export { soakFaults } from './soak-workload.ts';

const KEY = 'sk-ant-bench-soak-key';
const CHILD = fileURLToPath(new URL('./soak-child.ts', import.meta.url));

export interface SoakOptions {
  /** Default 2,000. */
  files?: number;
  /** Fraction of content requests that get a fault; default 0.3. */
  faultRate?: number;
  /** Seeds sizes, contents, order and faults; default 20260. */
  seed?: number;
  /** Files at once in the client; default 8. */
  parallelFiles?: number;
  /** The client's read timeout, which is how long a stall costs; default 2,000 ms. */
  readTimeoutMs?: number;
  /** No file finishing for this long counts as a hang: the child is killed and the run reported; default 120 s. */
  stuckAfterMs?: number;
  /**
   * Turn a reset drawn for a file's first content request (`Range: bytes=0-`) into a stall after the same bytes, so
   * the run measures memory and fds around the probe-reset hang (docs/soak.md) instead of freezing on it; default false.
   */
  spareProbeResets?: boolean;
  /** Keep the temp dir (data dir with catalog and logs) for a post-mortem; default false. */
  keep?: boolean;
  /** Progress lines (default: none). */
  log?: (message: string) => void;
}

export interface SoakResult {
  settings: Required<Omit<SoakOptions, 'log' | 'keep'>>;
  /** The temp dir when kept (options.keep), else null. */
  keptDir: string | null;
  sizes: { small: number; medium: number; large: number; totalBytes: number };
  wallSeconds: number;
  filesDone: number;
  /** Done and byte-identical to the origin's bytes (sha256). */
  filesIdentical: number;
  /** Done, but the archived bytes differ from the origin's: a wrong file (a bug). */
  filesWrong: string[];
  filesFailed: number;
  /** Failure reasons with numbers and ids blanked, each with how many files gave it and one example. */
  failureReasons: { reason: string; count: number; example: string }[];
  /** Files with no outcome at all (the child hung or died). */
  filesMissing: number;
  /** Downloads the child found unsettled with nothing left to run (its event loop drained): they can never finish. */
  filesStuck: number;
  /** The first of them (at most 20), with their sizes. */
  missingExamples: string[];
  requests: {
    total: number;
    metadata: number;
    content: number;
    other: number;
    injected: Record<string, number>;
    probeResetsSpared: number;
    /** Content requests open at once at the origin, averaged over the run's time, and the most at any moment. */
    openContent: { mean: number; max: number };
  };
  /** Engine events by type (retry, restart, …), counted in the child. */
  events: Record<string, number>;
  memory: MemorySample[];
  /** null where the run never reached that point (e.g. it froze before 50%). */
  rss: { startBytes: number | null; middleBytes: number | null; endBytes: number | null; growthEndVsMiddleBytes: number | null; growthEndVsMiddlePct: number | null; flat: boolean | null };
  fds: FdCount[];
  /** Descriptors open after close minus before open; null when either count is missing. */
  fdLeak: number | null;
  /** The child's exit: by itself after close (as it should), or killed because it hung. */
  child: { exitCode: number | null; signal: string | null; exitedOnItsOwn: boolean; msAfterClose: number | null; activeResourcesAfterClose: string[]; stderrTail: string };
  hang: string | null;
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const settings = {
    files: options.files ?? 2000,
    faultRate: options.faultRate ?? 0.3,
    seed: options.seed ?? 20260,
    parallelFiles: options.parallelFiles ?? 8,
    readTimeoutMs: options.readTimeoutMs ?? 2000,
    stuckAfterMs: options.stuckAfterMs ?? 120_000,
    spareProbeResets: options.spareProbeResets ?? false,
  };
  const log = options.log ?? (() => {});
  const plan = planFiles(settings.files, settings.seed);
  const sizes = {
    small: plan.filter((file) => file.size === 'small').length,
    medium: plan.filter((file) => file.size === 'medium').length,
    large: plan.filter((file) => file.size === 'large').length,
    totalBytes: plan.reduce((sum, file) => sum + file.bytes.length, 0),
  };
  log(`soak: ${settings.files} files (${sizes.small} small, ${sizes.medium} medium, ${sizes.large} large; ${(sizes.totalBytes / MiB).toFixed(0)} MiB), fault rate ${settings.faultRate}, seed ${settings.seed}`);

  const origin = await startOrigin({ apiKey: KEY });
  for (const file of plan) origin.addFile({ id: file.id, filename: `${file.id}.bin`, bytes: file.bytes, createdAt: '2025-06-15T12:00:00Z' });
  const spared = setSoakFaults(origin, settings);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'filehaul-soak-'));
  const dataDir = path.join(workDir, 'data');
  const idsFile = path.join(workDir, 'ids.json');
  writeFileSync(idsFile, JSON.stringify(plan.map((file) => file.id)));

  const outcomes = new Map<string, Extract<ChildLine, { type: 'file' }>>();
  const memory: MemorySample[] = [];
  const fds: FdCount[] = [];
  let events: Record<string, number> = {};
  let activeResourcesAfterClose: string[] = [];
  let closedAt: number | null = null;
  let hang: string | null = null;
  let stuck: string[] = [];
  let stderrTail = '';

  const started = performance.now();
  try {
    const child = spawn(
      process.execPath,
      // The young-generation setting of bin/filehaul.mjs and the desktop main process: measure what users run.
      ['--expose-gc', '--semi-space-growth-factor=1', CHILD, '--origin', origin.url, '--key', KEY, '--data-dir', dataDir, '--ids', idsFile, '--parallel', String(settings.parallelFiles), '--read-timeout-ms', String(settings.readTimeoutMs)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderrTail = (stderrTail + text).slice(-4000)));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

    // Watchdog: no file finished for stuckAfterMs (or no exit that long after close) is a hang; it ends the child.
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (what: () => string) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        hang = what();
        log(`soak: HANG: ${hang}`);
        child.kill('SIGKILL');
      }, settings.stuckAfterMs);
    };
    const stuckMessage = () => {
      const pending = plan.filter((file) => !outcomes.has(file.id)).map((file) => `${file.id} (${file.bytes.length} B)`);
      return `no file finished for ${settings.stuckAfterMs / 1000} s with ${pending.length} left: ${pending.slice(0, 10).join(', ')}`;
    };
    arm(stuckMessage);

    // Whatever ends this (the child's exit, or a line the loop cannot handle), the watchdog goes with it: left armed it
    // would keep the bench alive for stuckAfterMs and then kill a child that is already gone.
    let exit: { code: number | null; signal: string | null };
    try {
      const lines = createInterface({ input: child.stdout });
      for await (const text of lines) {
        let line: ChildLine;
        try {
          line = JSON.parse(text) as ChildLine;
        } catch {
          stderrTail = (stderrTail + `stdout: ${text}\n`).slice(-4000);
          continue;
        }
        if (line.type === 'file') {
          outcomes.set(line.id, line);
          arm(stuckMessage);
        } else if (line.type === 'memory') {
          memory.push(line.sample);
          const s = line.sample;
          log(`soak: ${s.label.padEnd(11)} ${String(s.filesFinished).padStart(5)} files  ${(s.elapsedMs / 1000).toFixed(1).padStart(6)} s  RSS ${(s.rssBytes / MiB).toFixed(1)} MiB  heap ${(s.heapUsedBytes / MiB).toFixed(1)} MiB (after GC ${s.heapAfterGcBytes === null ? '?' : (s.heapAfterGcBytes / MiB).toFixed(1)})  external ${(s.externalBytes / MiB).toFixed(1)} MiB  arrayBuffers ${(s.arrayBuffersBytes / MiB).toFixed(1)} MiB  allowance ${s.allowance ?? '-'}`);
        } else if (line.type === 'fds') {
          fds.push(line.count);
          log(`soak: fds ${line.count.label}: ${line.count.total} ${JSON.stringify(line.count.kinds)}`);
        } else if (line.type === 'stuck') {
          stuck = line.ids;
          log(`soak: STUCK: ${stuck.length} downloads unsettled with nothing left to run in the client: ${stuck.slice(0, 10).join(', ')}`);
        } else if (line.type === 'events') {
          events = line.counts;
        } else if (line.type === 'closed') {
          activeResourcesAfterClose = line.activeResources;
          closedAt = performance.now();
          arm(() => `the client did not exit within ${settings.stuckAfterMs / 1000} s of service.close(); active resources: ${activeResourcesAfterClose.join(', ')}`);
        }
      }
      exit = await exited;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(watchdog);
    }
    const exitedAt = performance.now();
    return soakResult({
      settings,
      keptDir: options.keep ? workDir : null,
      sizes,
      plan,
      dataDir,
      origin,
      spared,
      outcomes,
      memory,
      fds,
      events,
      activeResourcesAfterClose,
      stuck,
      hang,
      stderrTail,
      exit,
      started,
      closedAt,
      exitedAt,
    });
  } finally {
    await origin.close();
    if (!options.keep) rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      files: { type: 'string' },
      'fault-rate': { type: 'string' },
      seed: { type: 'string' },
      parallel: { type: 'string' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'spare-probe-resets': { type: 'boolean', default: false },
    },
  });
  const result = await runSoak({
    files: values.files === undefined ? undefined : Number(values.files),
    faultRate: values['fault-rate'] === undefined ? undefined : Number(values['fault-rate']),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    parallelFiles: values.parallel === undefined ? undefined : Number(values.parallel),
    keep: values.keep,
    spareProbeResets: values['spare-probe-resets'],
    log: (message) => process.stderr.write(`${message}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatSoak(result)}\n`);
}
