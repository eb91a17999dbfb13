// Soak benchmark results: turns what one run collected into its figures (files byte-checked, requests, RSS, fds, the child's exit) and a plain-text summary.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Origin, RequestLogEntry } from '../fixtures/files-api-origin.ts';
import type { ChildLine, FdCount, MemorySample } from './soak-child.ts';
import type { SoakResult } from './soak.ts';
import { MiB, type PlannedFile } from './soak-workload.ts';

/** Everything runSoak collected from the origin and the child by the time the child exited. */
export interface SoakRun {
  settings: SoakResult['settings'];
  keptDir: string | null;
  sizes: SoakResult['sizes'];
  plan: PlannedFile[];
  dataDir: string;
  origin: Origin;
  /** The counter setSoakFaults returned. */
  spared: () => number;
  outcomes: Map<string, Extract<ChildLine, { type: 'file' }>>;
  memory: MemorySample[];
  fds: FdCount[];
  events: Record<string, number>;
  activeResourcesAfterClose: string[];
  stuck: string[];
  hang: string | null;
  stderrTail: string;
  exit: { code: number | null; signal: string | null };
  /** performance.now() when the child was spawned, when it reported service.close() (null if never) and when it exited. */
  started: number;
  closedAt: number | null;
  exitedAt: number;
}

/** Groups failure messages: ids, numbers and request ids blanked so the same cause counts once. */
function reasonKey(message: string): string {
  return message
    .replace(/file_soak\d+/g, 'file_…')
    .replace(/req_\w+/g, 'req_…')
    .replace(/\d+/g, 'N');
}

/** The run's figures; reads the archived files back from the data dir, so call it before the temp dir goes. */
export function soakResult(run: SoakRun): SoakResult {
  const { settings, plan, dataDir, origin, outcomes, memory, fds, stuck, hang, exit, closedAt, exitedAt } = run;
  const sources = new Map(plan.map((file) => [file.id, file.bytes]));
  const wallSeconds = (exitedAt - run.started) / 1000;

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
    keptDir: run.keptDir,
    sizes: run.sizes,
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
    requests: { total: origin.requests.length, metadata, content, other: origin.requests.length - metadata - content, injected, probeResetsSpared: run.spared(), openContent: concurrency(origin.requests.filter((entry) => entry.kind === 'content')) },
    events: run.events,
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
      activeResourcesAfterClose: run.activeResourcesAfterClose,
      stderrTail: run.stderrTail,
    },
    hang,
  };
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
