// Benchmark report: puts every part's results together — the summary of targets first, then a section per part — as docs/benchmarks.md and as the terminal summary.
import type { CatalogBenchResult } from './catalog-bench.ts';
import type { RendererBenchResult } from './renderer-bench.ts';
import type { ResumeResult } from './resume-waste.ts';
import type { ScenarioResult } from './scenarios.ts';
import type { SoakResult } from './soak.ts';
import {
  catalogMarkdown,
  catalogTable,
  rendererMarkdown,
  rendererTable,
  resumeFailures,
  resumeMarkdown,
  resumeRunsTable,
  resumeTitle,
  resumeToolsTable,
  soakFailures,
  soakMarkdown,
  soakTable,
} from './suite-report.ts';
import { targetsTable } from './summary.ts';
import { markdownTable, textTable } from './tables.ts';
import type { TrafficResult } from './traffic-bench.ts';
import { trafficFailures, trafficMarkdown, trafficRunsTable, trafficTargetsTable } from './traffic-report.ts';
import { phasesTable, requestsTable, scenarioTable, transferFailures, transferMarkdown, untitled } from './transfer-report.ts';

/** The parts of `npm run bench`, in the order they run; each is a value of `--only`. */
export const PARTS = ['throttled', 'loopback', 'resume-waste', 'small-files', 'fault-rate', 'catalog', 'renderer', 'soak'] as const;
export type PartId = (typeof PARTS)[number];

export interface PartStatus {
  seconds: number;
  /** The part threw (it is reported and the others still run). */
  error: string | null;
  /** The part could not run here (e.g. no Chromium), and why. */
  skipped: string | null;
}

export interface BenchResults {
  transfer: ScenarioResult[];
  resume: ResumeResult | null;
  traffic: TrafficResult[];
  catalog: CatalogBenchResult | null;
  renderer: RendererBenchResult | null;
  soak: SoakResult | null;
  /** Every part this run was asked for. */
  parts: Partial<Record<PartId, PartStatus>>;
}

export interface ReportMeta {
  date: string;
  environment: string[];
  reps: number;
  argv: string[];
  rssMethod: 'time' | 'poll';
  /** Runs per catalog query kind. */
  catalogRuns: number;
  /** A --quick run: its smaller sizes go into every reproduce command. */
  quick: boolean;
}

function partTimes(r: BenchResults): string {
  return PARTS.filter((p) => r.parts[p]).map((p) => `${p} ${Math.round(r.parts[p]!.seconds)} s`).join(', ');
}

/** One line per failed run or part, for the document and the exit code. */
export function allFailures(r: BenchResults): string[] {
  const parts = PARTS.flatMap((p) => (r.parts[p]?.error ? [`- ${p}: the part failed: ${r.parts[p]!.error!.replace(/\s+/gu, ' ').slice(0, 600)}`] : []));
  return [...parts, ...transferFailures(r.transfer), ...resumeFailures(r.resume), ...trafficFailures(r.traffic), ...soakFailures(r.soak)];
}

export function markdownReport(r: BenchResults, meta: ReportMeta): string {
  const total = PARTS.reduce((sum, p) => sum + (r.parts[p]?.seconds ?? 0), 0);
  const out: string[] = [
    '<!-- Benchmark results of every part of `npm run bench` (test/bench/run.ts) against the project\'s targets; generated, do not edit by hand. -->',
    '# Benchmarks',
    '',
    `Generated ${meta.date} by \`npm run bench${meta.argv.length ? ' -- ' + meta.argv.join(' ') : ''}\` in ${(total / 60).toFixed(1)} min ` +
      `(${partTimes(r)}). Transfer figures are the median of ${meta.reps} run(s) per tool, tools interleaved after one untimed warm-up download of a 1 MiB file per tool, every output checked by sha256 against the source.`,
    '',
    ...meta.environment.map((e) => `- ${e}`),
    '',
    '## Summary: every target',
    '',
    'Met = yes / NO; n/a where the figure could not be taken. Each row says how to rerun its part alone; the sections below give the details and the exact commands.',
    '',
    markdownTable(targetsTable(r, meta)),
    '',
    '## How to reproduce',
    '',
    '```sh',
    'npm run bench                              # every part below with its default size (about 8 min on 2 cores)',
    'npm run bench -- --quick                   # smaller sizes, 1 run each (a few minutes); writes test-results/benchmarks.md',
    'npm run bench -- --only resume-waste       # one part (or a comma list): throttled, loopback, resume-waste, small-files,',
    '                                           #   fault-rate (runs small-files too), catalog, renderer, soak',
    'npm run bench -- --soak-files 2000         # the full 2,000-file soak (default 500); --catalog-rows N (default 1,000,000)',
    'npm run bench -- --reps N --tools filehaul,aria2c,curl --keep --out FILE',
    '```',
    '',
    'Needs `nginx`, `aria2c`, `curl` (`apt-get install -y nginx aria2`) and, for the renderer part, Debian\'s `chromium` at ' +
      '/usr/bin/chromium. Only a run of every part without `--quick` writes this file; `--only` and `--quick` write ' +
      'test-results/benchmarks.md (or `--out FILE`).',
    '',
  ];
  out.push(...transferMarkdown(r.transfer, meta));
  if (r.resume) out.push(...resumeMarkdown(r.resume, meta.quick));
  if (r.traffic.length) out.push(...trafficMarkdown(r.traffic, meta.quick));
  if (r.catalog) out.push(...catalogMarkdown(r.catalog, meta));
  if (r.parts.renderer) out.push(...rendererMarkdown(r.renderer, r.parts.renderer.skipped ?? r.parts.renderer.error, meta.quick));
  if (r.soak) out.push(...soakMarkdown(r.soak));
  const fails = allFailures(r);
  if (fails.length) out.push('## Failed runs', '', ...fails, '');
  return out.join('\n');
}

export function stdoutSummary(r: BenchResults, meta: ReportMeta): string {
  const parts = r.transfer.map((res) => `${untitled(res.scenario.title)}\n${textTable(scenarioTable(res, meta))}`);
  if (r.transfer.length) parts.push(`Requests per file (target: connections + 4)\n${textTable(requestsTable(r.transfer))}`);
  const ph = phasesTable(r.transfer);
  if (ph.rows.length) parts.push(`filehaul time breakdown\n${textTable(ph)}`);
  if (r.resume) parts.push(`${resumeTitle(r.resume)}\n${textTable(resumeRunsTable(r.resume))}\n\n${textTable(resumeToolsTable(r.resume))}`);
  for (const t of r.traffic) parts.push(`${untitled(t.scenario.title)}\n${textTable(trafficRunsTable(t))}`);
  if (r.traffic.length) parts.push(`Traffic-control targets\n${textTable(trafficTargetsTable(r.traffic))}`);
  if (r.catalog) parts.push(`Catalog: ${r.catalog.rows.toLocaleString('en-US')} entries\n${textTable(catalogTable(r.catalog))}`);
  if (r.renderer) parts.push(`Renderer: ${r.renderer.downloads} live downloads at ${r.renderer.hz} Hz\n${textTable(rendererTable(r.renderer))}`);
  if (r.soak) parts.push(`Soak: ${r.soak.settings.files} files\n${textTable(soakTable(r.soak))}`);
  parts.push(`SUMMARY: every target\n${textTable(targetsTable(r, meta))}`);
  parts.push(`Parts took: ${partTimes(r)}`);
  const fails = allFailures(r);
  if (fails.length) parts.push(`Failed runs\n${fails.join('\n')}`);
  return parts.join('\n\n');
}
