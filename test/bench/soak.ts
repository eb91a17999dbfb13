// Soak benchmark: 2,000 files of mixed sizes through a faulty test origin in one run, the client in a child process; reports outcomes, RSS over the run and fds before/after.
// Usage: node test/bench/soak.ts [--files N] [--fault-rate R] [--seed S] [--parallel N] [--spare-probe-resets] [--json] [--keep]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeBytes, seededRandom, startOrigin, type Fault, type FaultMatchInput, type Origin, type RequestLogEntry } from '../fixtures/files-api-origin.ts';
import type { ChildLine, FdCount, MemorySample } from './soak-child.ts';

const KEY = 'sk-ant-bench-soak-key';
const KiB = 1024;
const MiB = 1024 * KiB;
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

/** The soak's mix: mostly small files, some medium, a few large, in a seeded order so large ones fall all through the run. */
function planFiles(count: number, seed: number): { id: string; bytes: Buffer; size: 'small' | 'medium' | 'large' }[] {
  const random = seededRandom(seed);
  const large = Math.max(1, Math.round(count * 0.002));
  const medium = Math.round(count * 0.04);
  const kinds: ('small' | 'medium' | 'large')[] = [];
  for (let n = 0; n < count; n++) kinds.push(n < large ? 'large' : n < large + medium ? 'medium' : 'small');
  // Fisher–Yates with the seeded generator.
  for (let n = kinds.length - 1; n > 0; n--) {
    const k = Math.floor(random() * (n + 1));
    [kinds[n], kinds[k]] = [kinds[k], kinds[n]];
  }
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  return kinds.map((size, n) => {
    const length = size === 'large' ? between(16 * MiB, 32 * MiB) : size === 'medium' ? between(1 * MiB, 4 * MiB) : between(1 * KiB, 64 * KiB);
    return { id: `file_soak${String(n).padStart(5, '0')}`, bytes: makeBytes(length, seed * 7 + n), size };
  });
}

/**
 * Each kind weighted 1/5: 429 (short retry-after-ms), 503, 529, a reset and a stall mid-body. Resets and stalls come
 * early (512 B, hits small files too) and late (256 KiB, hits medium and large segments only).
 */
export function soakFaults(): Fault[] {
  const status = (code: number): Fault => ({ kind: 'status', status: code, ...(code === 429 && { headers: { 'retry-after-ms': '50' } }) });
  return [
    status(429),
    status(429),
    status(503),
    status(503),
    status(529),
    status(529),
    { kind: 'reset', afterBytes: 512 },
    { kind: 'reset', afterBytes: 256 * KiB },
    { kind: 'stall', afterBytes: 512 },
    { kind: 'stall', afterBytes: 256 * KiB },
  ];
}

/**
 * What origin.setFaultRate(rate, soakFaults(), seed) does — the same two draws per content request from the same seed,
 * so the same pattern — except that with spareProbeResets a reset drawn for `bytes=0-` becomes a stall. Built on
 * injectFault: the first injection's match makes the draw for each request, the others match the fault it drew.
 * Returns a counter of the resets spared.
 */
function setSoakFaults(origin: Origin, settings: { faultRate: number; seed: number; spareProbeResets: boolean }): () => number {
  const faults = soakFaults();
  const stallFor = new Map<Fault, Fault>();
  for (const fault of faults) if (fault.kind === 'reset') stallFor.set(fault, faults.find((f) => f.kind === 'stall' && f.afterBytes === fault.afterBytes)!);
  const random = seededRandom(settings.seed);
  let spared = 0;
  let drawn: Fault | undefined;
  const draw = (entry: FaultMatchInput): Fault | undefined => {
    if (entry.kind !== 'content' && entry.kind !== 'plain') return undefined;
    const roll = random();
    const pick = random();
    if (roll >= settings.faultRate) return undefined;
    const fault = faults[Math.floor(pick * faults.length)];
    if (settings.spareProbeResets && entry.range === 'bytes=0-' && stallFor.has(fault)) {
      spared++;
      return stallFor.get(fault);
    }
    return fault;
  };
  faults.forEach((fault, index) => {
    origin.injectFault(fault, {
      count: Number.MAX_SAFE_INTEGER,
      match: (entry) => {
        if (index === 0) drawn = draw(entry);
        return drawn === fault;
      },
    });
  });
  return () => spared;
}

/** Groups failure messages: ids, numbers and request ids blanked so the same cause counts once. */
function reasonKey(message: string): string {
  return message
    .replace(/file_soak\d+/g, 'file_…')
    .replace(/req_\w+/g, 'req_…')
    .replace(/\d+/g, 'N');
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
  const sources = new Map(plan.map((file) => [file.id, file.bytes]));
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
    const exit = await exited;
    clearTimeout(watchdog);
    const exitedAt = performance.now();
    const wallSeconds = (exitedAt - started) / 1000;

    // Verify every done file against the origin's bytes by sha256.
    const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    let filesDone = 0;
    let filesIdentical = 0;
    const filesWrong: string[] = [];
    const reasons = new Map<string, { count: number; example: string }>();
    for (const outcome of outcomes.values()) {
      if (outcome.state !== 'done') {
        const key = `${outcome.state}: ${reasonKey(outcome.message ?? '(no message)')}`;
        const entry = reasons.get(key) ?? { count: 0, example: `${outcome.id}: ${outcome.message}` };
        entry.count++;
        reasons.set(key, entry);
        continue;
      }
      filesDone++;
      let archived: Buffer | null = null;
      try {
        archived = readFileSync(path.join(dataDir, outcome.finalPath!));
      } catch (error) {
        filesWrong.push(`${outcome.id}: archive file unreadable (${(error as Error).message})`);
        continue;
      }
      if (sha(archived) === sha(sources.get(outcome.id)!)) filesIdentical++;
      else filesWrong.push(`${outcome.id}: sha256 of ${outcome.finalPath} (${archived.length} B) differs from the origin's (${sources.get(outcome.id)!.length} B)`);
    }

    const injected: Record<string, number> = {};
    for (const entry of origin.requests) {
      if (!entry.fault) continue;
      const name = entry.fault === 'status' ? String(entry.status) : entry.fault;
      injected[name] = (injected[name] ?? 0) + 1;
    }
    const content = origin.requests.filter((entry) => entry.kind === 'content').length;
    const metadata = origin.requests.filter((entry) => entry.kind === 'metadata').length;

    const at = (label: string) => memory.find((s) => s.label === label)?.rssBytes ?? null;
    const startBytes = at('start');
    const middleBytes = at('50%');
    const endBytes = at('end');
    const growth = endBytes !== null && middleBytes !== null ? endBytes - middleBytes : null;
    const before = fds.find((c) => c.label === 'before open')?.total;
    const after = fds.find((c) => c.label === 'after close')?.total;

    return {
      settings,
      keptDir: options.keep ? workDir : null,
      sizes,
      wallSeconds,
      filesDone,
      filesIdentical,
      filesWrong,
      filesFailed: [...outcomes.values()].filter((o) => o.state !== 'done').length,
      failureReasons: [...reasons].map(([reason, { count, example }]) => ({ reason, count, example })).sort((a, b) => b.count - a.count),
      filesMissing: settings.files - outcomes.size,
      filesStuck: stuck.length,
      missingExamples: plan
        .filter((file) => !outcomes.has(file.id))
        .slice(0, 20)
        .map((file) => `${file.id} (${file.bytes.length} B; origin saw ${describeRequests(origin.requests.filter((entry) => entry.fileId === file.id))})`),
      requests: { total: origin.requests.length, metadata, content, other: origin.requests.length - metadata - content, injected, probeResetsSpared: spared(), openContent: concurrency(origin.requests.filter((entry) => entry.kind === 'content')) },
      events,
      memory,
      // Flat: what the client gained over the second half is under 20% of what it held at the half-way mark.
      rss: {
        startBytes,
        middleBytes,
        endBytes,
        growthEndVsMiddleBytes: growth,
        growthEndVsMiddlePct: growth === null ? null : (growth / middleBytes!) * 100,
        flat: growth === null ? null : growth < 0.2 * middleBytes!,
      },
      fds,
      // The client's descriptors after close compared with before open: anything more was opened and never closed.
      fdLeak: before === undefined || after === undefined ? null : after - before,
      child: {
        exitCode: exit.code,
        signal: exit.signal,
        exitedOnItsOwn: hang === null && exit.code !== null,
        msAfterClose: closedAt === null ? null : Math.round(exitedAt - closedAt),
        activeResourcesAfterClose,
        stderrTail,
      },
      hang,
    };
  } finally {
    await origin.close();
    if (!options.keep) rmSync(workDir, { recursive: true, force: true });
  }
}

/** Time-weighted mean and peak of how many of these requests were open at once (from arrival to end or abort). */
function concurrency(entries: RequestLogEntry[]): { mean: number; max: number } {
  const steps: [number, number][] = [];
  for (const entry of entries) steps.push([entry.startedAt, 1], [entry.endedAt ?? Date.now(), -1]);
  steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  let area = 0;
  for (let index = 0; index < steps.length; index++) {
    open += steps[index][1];
    max = Math.max(max, open);
    if (index + 1 < steps.length) area += open * (steps[index + 1][0] - steps[index][0]);
  }
  const span = steps.length ? steps.at(-1)![0] - steps[0][0] : 0;
  return { mean: span > 0 ? area / span : 0, max };
}

/** One file's requests as the origin logged them, for a post-mortem of a file that never finished. */
function describeRequests(entries: RequestLogEntry[]): string {
  return entries
    .map((e) => `${e.kind} ${e.range ?? 'no range'} → ${e.status}${e.fault ? ` [${e.fault}]` : ''} ${e.bytesSent} B${e.aborted ? ' aborted' : e.endedAt === undefined ? ' still open' : ''}`)
    .join('; ');
}

function mib(bytes: number | null): string {
  return bytes === null ? '—' : (bytes / MiB).toFixed(1);
}

/** A plain-text summary of one run, for the command line. */
export function formatSoak(result: SoakResult): string {
  const r = result;
  const out: string[] = [];
  out.push(`files: ${r.settings.files} (${r.sizes.small} small 1–64 KiB, ${r.sizes.medium} medium 1–4 MiB, ${r.sizes.large} large 16–32 MiB; ${mib(r.sizes.totalBytes)} MiB), fault rate ${r.settings.faultRate}, seed ${r.settings.seed}, ${r.settings.parallelFiles} files at once, read timeout ${r.settings.readTimeoutMs} ms${r.settings.spareProbeResets ? ', probe resets spared' : ''}`);
  out.push(`wall time: ${r.wallSeconds.toFixed(1)} s`);
  out.push(`done: ${r.filesDone} (byte-identical ${r.filesIdentical}, WRONG ${r.filesWrong.length}); failed: ${r.filesFailed}; no outcome: ${r.filesMissing} (stuck: ${r.filesStuck})`);
  for (const wrong of r.filesWrong.slice(0, 10)) out.push(`  wrong: ${wrong}`);
  if (r.missingExamples.length) out.push(`  no outcome: ${r.missingExamples.join(', ')}`);
  for (const reason of r.failureReasons) out.push(`  ${reason.count} × ${reason.reason}   e.g. ${reason.example}`);
  out.push(`requests: ${r.requests.total} (metadata ${r.requests.metadata}, content ${r.requests.content}, other ${r.requests.other}); injected ${Object.entries(r.requests.injected).map(([k, n]) => `${k}×${n}`).join(' ')}${r.settings.spareProbeResets ? `; probe resets turned into stalls: ${r.requests.probeResetsSpared}` : ''}; content requests open at once: mean ${r.requests.openContent.mean.toFixed(2)}, max ${r.requests.openContent.max}`);
  out.push(`engine events: ${Object.entries(r.events).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  out.push(`RSS: start ${mib(r.rss.startBytes)} MiB, middle (50%) ${mib(r.rss.middleBytes)} MiB, end ${mib(r.rss.endBytes)} MiB; end − middle ${mib(r.rss.growthEndVsMiddleBytes)} MiB (${r.rss.growthEndVsMiddlePct?.toFixed(1) ?? '—'}% of middle) → ${r.rss.flat === null ? 'not decided (no 50% sample)' : r.rss.flat ? 'flat' : 'NOT flat'} (flat: < 20%)`);
  out.push(`fds: ${r.fds.map((c) => `${c.label} ${c.total}`).join(', ')}; after close − before open = ${r.fdLeak}`);
  out.push(`child: exit ${r.child.exitCode ?? r.child.signal}, ${r.child.exitedOnItsOwn ? `exited by itself ${r.child.msAfterClose} ms after close` : 'did NOT exit by itself'}; active after close: ${r.child.activeResourcesAfterClose.join(', ') || 'none'}`);
  if (r.hang) out.push(`HANG: ${r.hang}`);
  if (r.keptDir) out.push(`kept: ${r.keptDir}`);
  if (r.child.exitCode !== 0 && r.child.stderrTail) out.push(`child stderr (tail):\n${r.child.stderrTail}`);
  return out.join('\n');
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
