// Traffic-control report: the small-files and fault-rate runs and their targets, as tables for stdout and docs/benchmarks.md.
import { markdownTable, onlyFlags, pct, verdict, type Table } from './tables.ts';
import type { TrafficResult } from './traffic-bench.ts';
import { untitled } from './transfer-report.ts';

/** One row per run of a traffic scenario: time, requests, 429s, injected faults, verified files. */
export function trafficRunsTable(t: TrafficResult): Table {
  const rows = t.runs.map((run) => [
    `${t.scenario.id} #${run.rep}`,
    run.failures.length ? `${run.seconds.toFixed(2)} (FAILED)` : run.seconds.toFixed(2),
    `${(run.seconds / t.idealSeconds).toFixed(2)}×`,
    `${run.requests} (${t.neededRequests} needed)`,
    `${run.responses429} (${pct(run.responses429, run.requests)}); rate limit: ${run.limited429}`,
    Object.entries(run.injected).map(([kind, count]) => `${kind}×${count}`).join(' ') || 'none',
    `${run.identical} / ${t.scenario.files}`,
    String(run.allowanceAtEnd),
  ]);
  return { head: ['run', 'seconds', 'vs ideal', 'requests', '429s (share)', 'injected faults', 'files byte-identical', 'allowance at end'], rows };
}

/** The issue's targets: small files within 1.1× of requests / R with ≤ 1% 429s; with 30% faults every file intact within 2× of the fault-free time. */
export function trafficTargetsTable(traffic: TrafficResult[]): Table {
  const rows: string[][] = [];
  const clean = traffic.find((t) => t.scenario.id === 'small-files');
  const faulty = traffic.find((t) => t.scenario.id === 'fault-rate');
  if (clean) {
    const ratio = clean.seconds === null ? null : clean.seconds / clean.idealSeconds;
    const worst = Math.max(...clean.runs.map((run) => run.responses429 / Math.max(1, run.requests)));
    rows.push(['small files', `median time ÷ ideal (${clean.neededRequests} requests ÷ ${clean.scenario.requestsPerMinute}/min = ${clean.idealSeconds.toFixed(1)} s)`, '≤ 1.1×', ratio === null ? 'n/a' : `${ratio.toFixed(2)}× (${clean.seconds!.toFixed(2)} s)`, verdict(ratio === null ? null : ratio <= 1.1)]);
    rows.push(['small files', 'share of responses that were 429 (worst run)', '≤ 1%', `${(worst * 100).toFixed(2)}%`, verdict(worst <= 0.01)]);
  }
  if (faulty) {
    const intact = faulty.runs.every((run) => run.identical === faulty.scenario.files);
    rows.push(['fault rate', 'every file byte-identical, every run', 'all', faulty.runs.map((run) => `${run.identical}/${faulty.scenario.files}`).join(' / '), verdict(intact)]);
    const ratio = faulty.seconds !== null && clean?.seconds ? faulty.seconds / clean.seconds : null;
    const shown = ratio === null ? `n/a (${faulty.runs.map((run) => run.seconds.toFixed(0) + ' s').join(' / ')})` : `${ratio.toFixed(2)}× (${faulty.seconds!.toFixed(2)} s ÷ ${clean!.seconds!.toFixed(2)} s)`;
    rows.push(['fault rate', 'median time ÷ fault-free median time', '≤ 2×', shown, verdict(ratio === null ? (intact ? null : false) : ratio <= 2)]);
  }
  return { head: ['scenario', 'measure', 'target', 'result', 'met'], rows };
}

export function trafficMarkdown(traffic: TrafficResult[], quick: boolean): string[] {
  const s = traffic[0].scenario;
  const out = [
    '## Traffic control: small files and faults (in process)',
    '',
    `The bench imports \`FilehaulService\` and runs it in one Node process with the test Files API origin ` +
      '(`test/fixtures/files-api-origin.ts`), exactly as `filehaul get id1 id2 …` drives it (prepare all, download all, ' +
      'the queue runs `parallelFiles` at once). In process rather than through the CLI because the figure is about request ' +
      'pacing, not Node start-up, and because the bench must read the origin\'s own request log (which 429s its rate limit ' +
      'sent, which faults it injected) and give the origin a rate limit the CLI cannot.',
    '',
    `- Origin: a token bucket of R = ${s.requestsPerMinute} requests a minute on every /v1 request (burst ${Math.max(1, Math.floor(s.requestsPerMinute / 60))}, ` +
      'one second\'s worth), 429 with `retry-after-ms` beyond it. R = 6000 so that 500 files (1000 requests) take 10 s; ' +
      'the bucket starts full, so a run may beat requests ÷ R by up to one second.',
    `- Filehaul: \`--rpm ${s.requestsPerMinute}\`, ${s.settings.parallelFiles} files at once and 8 connections (the defaults), ` +
      `read timeout ${s.settings.readTimeoutMs / 1000} s, cool-down ${s.settings.cooldown.initialMs / 1000} s doubling to ${s.settings.cooldown.maxMs / 1000} s ` +
      '(the defaults, 600 s and 30 s → 10 min, would make one stall or one 503 cost minutes).',
    `- Files: ${s.files} × ${s.sizeBytes / 1024} KiB; each needs a metadata and a content request, so the ideal time is requests ÷ R.`,
    '- Fault rate: 30% of content requests, drawn from a fixed seed, get one of: 429 (retry-after-ms one interval), 503, 529, ' +
      'a reset after half the body, a stall after half the body. Every archived file is compared byte for byte with the origin\'s. ' +
      'A run in which no request is sent and no file finishes for 90 s is stopped and reported as stuck.',
    '',
  ];
  for (const t of traffic) {
    // --only fault-rate runs small-files too: the fault-rate figure is a ratio to it.
    const only = `\`npm run bench -- ${onlyFlags(t.scenario.id, quick)}\`${t.scenario.id === 'fault-rate' ? ' (runs small-files first)' : ''}`;
    out.push(`### ${untitled(t.scenario.title)}`, '', `Reproduce: ${only}; ${t.runs.length} run(s) here.`, '', markdownTable(trafficRunsTable(t)), '');
  }
  out.push('### Traffic-control targets', '', markdownTable(trafficTargetsTable(traffic)), '');
  return out;
}

export function trafficFailures(traffic: TrafficResult[]): string[] {
  return traffic.flatMap((t) => t.runs.filter((run) => run.failures.length).map((run) => `- ${t.scenario.id} / run ${run.rep}: ${run.failures.slice(0, 5).join('; ')}${run.failures.length > 5 ? ` (+${run.failures.length - 5} more)` : ''}`));
}
