// Client side of the soak benchmark (spawned by soak.ts): downloads every id through one FilehaulService and reports memory, fds and outcomes as JSON lines on stdout.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_SERVICE_OPTIONS, FilehaulService } from '../../src/main/service.ts';

/** One memory reading; heapAfterGcBytes only when the child runs with --expose-gc. */
export interface MemorySample {
  label: string;
  filesFinished: number;
  elapsedMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  heapAfterGcBytes: number | null;
  /** Connections the origin's endpoint allows right now (halved after 429s, climbing back after calm); null before open. */
  allowance: number | null;
}

/** Open descriptors of this process, counted and grouped by what they point at (socket, pipe, a file under the data dir …). */
export interface FdCount {
  label: string;
  total: number;
  kinds: Record<string, number>;
}

/** The lines the child prints, one JSON object each. */
export type ChildLine =
  | { type: 'memory'; sample: MemorySample }
  | { type: 'fds'; count: FdCount }
  | { type: 'file'; id: string; state: 'done' | 'failed' | 'paused' | 'refused'; finalPath: string | null; message: string | null }
  | { type: 'events'; counts: Record<string, number> }
  | { type: 'stuck'; ids: string[] }
  | { type: 'closed'; activeResources: string[] };

const { values } = parseArgs({
  options: {
    origin: { type: 'string' },
    key: { type: 'string' },
    'data-dir': { type: 'string' },
    ids: { type: 'string' },
    parallel: { type: 'string', default: '8' },
    'read-timeout-ms': { type: 'string', default: '2000' },
  },
});
if (!values.origin || !values.key || !values['data-dir'] || !values.ids) {
  process.stderr.write('usage: node test/bench/soak-child.ts --origin URL --key KEY --data-dir DIR --ids FILE [--parallel N] [--read-timeout-ms MS]\n');
  process.exit(2);
}
const dataDir = values['data-dir'];
const ids = JSON.parse(readFileSync(values.ids, 'utf8')) as string[];
const started = performance.now();
const gc = (globalThis as { gc?: () => void }).gc;

function emit(line: ChildLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

let allowance: () => number | null = () => null;

function sample(label: string, filesFinished: number): void {
  // Read first, then collect: RSS is what the process holds as it runs, the post-GC heap is what is still reachable.
  const usage = process.memoryUsage();
  let heapAfterGcBytes: number | null = null;
  if (gc) {
    gc();
    heapAfterGcBytes = process.memoryUsage().heapUsed;
  }
  emit({
    type: 'memory',
    sample: {
      label,
      filesFinished,
      elapsedMs: Math.round(performance.now() - started),
      rssBytes: usage.rss,
      heapUsedBytes: usage.heapUsed,
      heapTotalBytes: usage.heapTotal,
      externalBytes: usage.external,
      arrayBuffersBytes: usage.arrayBuffers,
      heapAfterGcBytes,
      allowance: allowance(),
    },
  });
}

function countFds(label: string): void {
  const kinds: Record<string, number> = {};
  const entries = readdirSync('/proc/self/fd');
  for (const fd of entries) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // The descriptor readdir itself used is gone by now.
      continue;
    }
    const kind = target.startsWith(dataDir) ? `data-dir:${target.slice(dataDir.length + 1).split('/')[0] || '.'}` : (/^(\w+):/.exec(target)?.[1] ?? target);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  const total = Object.values(kinds).reduce((sum, n) => sum + n, 0);
  emit({ type: 'fds', count: { label, total, kinds } });
}

countFds('before open');
const service = await FilehaulService.open({
  ...DEFAULT_SERVICE_OPTIONS,
  dataDir,
  apiBase: values.origin,
  apiKey: values.key,
  // Test-friendly settings as in test/integration/engine-harness.ts: a 2 s read timeout makes a stall cost 2 s, not 10 min.
  readTimeoutMs: Number(values['read-timeout-ms']),
  connectTimeoutMs: 5_000,
  requestsPerMinute: 600_000,
  cooldown: { initialMs: 20, maxMs: 100 },
  engine: {
    ...DEFAULT_SERVICE_OPTIONS.engine,
    parallelFiles: Number(values.parallel),
    backoff: { baseMs: 5, capMs: 50, maxRetries: 5 },
    confirmIntervalMs: 100,
    progressIntervalMs: 50,
  },
});
allowance = () => service.http.allowance(values.origin!);
const eventCounts: Record<string, number> = {};
service.onEvent((event) => {
  eventCounts[event.type] = (eventCounts[event.type] ?? 0) + 1;
});
sample('start', 0);
countFds('after open');

let finished = 0;
let nextTenth = 1;
function finishedOne(): void {
  finished++;
  // Every 10% of the files: a sample (several at once if one completion crosses more than one mark).
  while (nextTenth <= 10 && finished >= Math.ceil((ids.length * nextTenth) / 10)) {
    sample(`${nextTenth * 10}%`, finished);
    nextTenth++;
  }
}

const unsettled = new Set(ids);
// 'beforeExit' fires only when nothing is left to run: downloads still unsettled then can never settle (a hang that
// left no timer or socket behind). They are reported as stuck and the run goes on to its end figures and close.
const drained = new Promise<'drained'>((resolve) => process.once('beforeExit', () => resolve('drained')));
// As `filehaul get id1 id2 …` does: prepare all, download all at once, the engine's queue runs `parallel` at a time.
const all = Promise.all(
  service.prepare(ids).map(async (item) => {
    if ('error' in item) {
      unsettled.delete(item.input);
      emit({ type: 'file', id: item.input, state: 'refused', finalPath: null, message: item.error });
      finishedOne();
      return;
    }
    let line: ChildLine;
    try {
      const outcome = await service.download(item.record, item.source);
      line =
        outcome.state === 'done'
          ? { type: 'file', id: item.input, state: 'done', finalPath: outcome.record.finalPath, message: null }
          : { type: 'file', id: item.input, state: outcome.state, finalPath: null, message: outcome.message ?? null };
    } catch (error) {
      line = { type: 'file', id: item.input, state: 'failed', finalPath: null, message: `download() threw: ${error instanceof Error ? error.message : String(error)}` };
    }
    unsettled.delete(item.input);
    emit(line);
    finishedOne();
  }),
);
if ((await Promise.race([all, drained])) === 'drained') emit({ type: 'stuck', ids: [...unsettled] });
sample('end', finished);
countFds('end, before close');
emit({ type: 'events', counts: eventCounts });
await service.close();
countFds('after close');
sample('after close', finished);
// What would keep the process alive now: the parent reports it if the child does not exit by itself.
emit({ type: 'closed', activeResources: process.getActiveResourcesInfo() });
