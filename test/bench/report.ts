// Benchmark report: turns scenario results into tables for stdout and the markdown of docs/benchmarks.md.
import { MiB } from './files.ts';
import { LIMIT_RATE } from './nginx.ts';
import type { ScenarioResult, ToolResult } from './scenarios.ts';
import type { TrafficResult } from './traffic-bench.ts';

export interface Table {
  head: string[];
  rows: string[][];
}

export interface ReportMeta {
  date: string;
  environment: string[];
  reps: number;
  argv: string[];
  rssMethod: 'time' | 'poll';
}

const fix = (v: number | null, d: number, unit = '') => (v === null ? 'n/a' : `${v.toFixed(d)}${unit}`);
const sizeLabel = (bytes: number) => (bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`);

function rss(t: ToolResult, method: 'time' | 'poll'): string {
  if (t.rssKiB === null) return 'n/a';
  return `${method === 'poll' ? '≥' : ''}${(t.rssKiB / 1024).toFixed(0)} MiB`;
}

function runsCell(t: ToolResult): string {
  return t.runs.map((r) => (r.ok ? r.seconds.toFixed(2) : 'FAIL')).join(' / ');
}

function requestsCell(t: ToolResult): string {
  return t.runs.map((r) => String(r.requests.content) + (r.requests.head ? `+${r.requests.head}H` : '')).join(' / ');
}

/** Throughput ratio filehaul ÷ peer (= peer time ÷ filehaul time); > 1 means filehaul was faster. */
function ratio(fh: ToolResult | undefined, peer: ToolResult): string {
  if (!fh || fh.seconds === null || peer.seconds === null) return 'n/a';
  return `${(peer.seconds / fh.seconds).toFixed(2)}×`;
}

export function scenarioTable(res: ScenarioResult, meta: ReportMeta): Table {
  const s = res.scenario;
  const fh = res.tools.find((t) => t.tool === 'filehaul');
  const head = ['tool', 'connections', 'median s', 'MiB/s'];
  if (s.idealBytesPerSec) head.push('% of ideal');
  else head.push('peak RSS');
  head.push('CPU s', 'GETs per run', 'runs (s)', 'filehaul/tool throughput');
  const rows = res.tools.map((t) => {
    const row = [t.tool, t.tool === 'curl' ? '1' : String(s.connections), fix(t.seconds, 2), fix(t.mibPerSec, 1)];
    if (s.idealBytesPerSec) row.push(t.seconds === null ? 'n/a' : `${((s.size / t.seconds / s.idealBytesPerSec) * 100).toFixed(0)}%`);
    else row.push(rss(t, meta.rssMethod));
    row.push(fix(t.cpuSeconds, 2), requestsCell(t), runsCell(t), t.tool === 'filehaul' ? '—' : ratio(fh, t));
    return row;
  });
  return { head, rows };
}

export function requestsTable(results: ScenarioResult[]): Table {
  const rows = results.map((res) => {
    const s = res.scenario;
    const target = s.connections + 4;
    const fh = res.tools.find((t) => t.tool === 'filehaul');
    const aria = res.tools.find((t) => t.tool === 'aria2c');
    const worst = fh ? Math.max(...fh.runs.map((r) => r.requests.content)) : null;
    const verdict = !fh || fh.runs.every((r) => !r.ok) ? 'n/a' : worst !== null && worst <= target ? 'yes' : 'NO';
    return [
      `${s.urlPath} (${sizeLabel(s.size)})`,
      String(s.connections),
      `≤ ${target}`,
      fh ? requestsCell(fh) : 'n/a',
      aria ? requestsCell(aria) : 'n/a',
      verdict,
    ];
  });
  return { head: ['file', 'connections', 'target', 'filehaul GETs', 'aria2c GETs', 'filehaul within target'], rows };
}

export function markdownTable(t: Table): string {
  const esc = (c: string) => c.replace(/\|/gu, '\\|');
  return [
    `| ${t.head.map(esc).join(' | ')} |`,
    `| ${t.head.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function textTable(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(t.head), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

function failures(results: ScenarioResult[]): string[] {
  return results.flatMap((res) =>
    res.tools.flatMap((t) =>
      t.runs.filter((r) => !r.ok).map((r) => `- ${res.scenario.id} / ${t.tool} / run ${r.rep}: ${r.failure?.replace(/\s+/gu, ' ')}`),
    ),
  );
}

/** Where filehaul's wall time went in each run, from its `--json` event timestamps. */
export function phasesTable(results: ScenarioResult[]): Table {
  const rows = results.flatMap((res) => {
    const fh = res.tools.find((t) => t.tool === 'filehaul');
    return (fh?.runs ?? []).map((r) => {
      const p = r.phases;
      const ev = r.events;
      const types = ev ? Object.entries(ev.byType).map(([k, v]) => `${k}×${v}`).join(' ') : 'none';
      return [
        `${res.scenario.id} #${r.rep}`,
        r.seconds.toFixed(2),
        p ? p.startup.toFixed(2) : 'n/a',
        p ? `${p.transfer.toFixed(2)} (${(res.scenario.size / MiB / p.transfer).toFixed(1)} MiB/s)` : 'n/a',
        p ? p.verify.toFixed(2) : 'n/a',
        p ? p.exit.toFixed(2) : 'n/a',
        `${ev?.requestCount ?? 'n/a'} / ${ev?.retryCount ?? 'n/a'}`,
        types + (ev?.nonJson ? ` non-JSON×${ev.nonJson}` : ''),
      ];
    });
  });
  return { head: ['run', 'wall s', 'start-up s', 'transfer s', 'verify s', 'exit s', 'requests / retries (own count)', 'events'], rows };
}

export function markdownReport(results: ScenarioResult[], traffic: TrafficResult[], meta: ReportMeta): string {
  const out: string[] = [
    '<!-- Benchmark results for filehaul vs aria2c and curl, and of traffic control; generated by `npm run bench` (test/bench/run.ts), do not edit by hand. -->',
    '# Benchmarks',
    '',
    `Generated ${meta.date} by \`npm run bench${meta.argv.length ? ' -- ' + meta.argv.join(' ') : ''}\`; ` +
      `each figure is the median of ${meta.reps} run(s) per tool, tools interleaved, every output checked by sha256 against the source.`,
    '',
    ...meta.environment.map((e) => `- ${e}`),
    '',
    '## How to reproduce',
    '',
    '```sh',
    'npm run bench                        # all four: 256 MiB throttled + 1 GiB loopback + small files + fault rate, 3 runs each (~6 min)',
    'npm run bench -- --quick             # 64 MiB + 256 MiB + 200 small files, 1 run each',
    'npm run bench -- --only throttled    # or: loopback, small-files, fault-rate (which also runs small-files); --reps N',
    '```',
    '',
  ];
  if (results.length) out.push(
    'The harness starts its own nginx (generated nginx.conf, `daemon off`, 2 workers, sendfile) on two free ports of ' +
      '127.0.0.1, writes random source files in 8 MiB pieces to a temp dir, runs the commands below with `/usr/bin/time -f %M` ' +
      '(peak RSS; CPU s = user + system), counts requests from an access log of `$request_method $uri $status $http_range $body_bytes_sent`, ' +
      'and removes the temp dir at the end. `DIR` is a fresh empty directory per run, `PORT` the port nginx got. ' +
      'Wall time includes process start-up (Node for filehaul). MiB/s uses 1 MiB = 1,048,576 bytes. ' +
      'The ratio column is throughput filehaul ÷ tool (= tool seconds ÷ filehaul seconds): above 1× filehaul was faster.',
    '',
  );
  for (const res of results) {
    const s = res.scenario;
    out.push(`## ${res.scenario.title}`, '');
    if (s.idealBytesPerSec) {
      out.push(
        `nginx: \`listen 127.0.0.1:PORT sndbuf=64k;\` and \`location /throttled/ { limit_rate ${LIMIT_RATE}; }\` — ` +
          `${LIMIT_RATE} is 2 × 1,048,576 bytes/s per connection, so the ideal for ${s.connections} connections is ` +
          `${(s.idealBytesPerSec / MiB).toFixed(0)} MiB/s (${sizeLabel(s.size)} in ${(s.size / s.idealBytesPerSec).toFixed(1)} s). ` +
          'nginx lets each response run up to one second ahead of its rate, so short transfers can exceed 100%.',
        '',
      );
    }
    out.push(markdownTable(scenarioTable(res, meta)), '', 'Commands:', '', '```sh');
    for (const t of res.tools) out.push(t.display);
    out.push('```', '');
  }
  if (results.length) out.push(
    '## Requests per file',
    '',
    'GETs answered 200/206 for the file path in nginx\'s access log, per run (`+NH` = extra HEAD requests); ' +
      'the target for filehaul is connections + 4.',
    '',
    markdownTable(requestsTable(results)),
    '',
  );
  const ph = phasesTable(results);
  if (ph.rows.length) {
    out.push(
      '## Where filehaul\'s time goes',
      '',
      'From the timestamps of its `--json` events: start-up = spawn → first event, transfer = first event → ' +
        '`verifying`, verify = `verifying` → `done`, exit = `done` → process exit.',
      '',
      markdownTable(ph),
      '',
    );
  }
  if (traffic.length) out.push(...trafficMarkdown(traffic));
  const fails = [...failures(results), ...trafficFailures(traffic)];
  if (fails.length) out.push('## Failed runs', '', ...fails, '');
  return out.join('\n');
}

export function stdoutSummary(results: ScenarioResult[], traffic: TrafficResult[], meta: ReportMeta): string {
  const parts = results.map((res) => `${res.scenario.title}\n${textTable(scenarioTable(res, meta))}`);
  if (results.length) parts.push(`Requests per file (target: connections + 4)\n${textTable(requestsTable(results))}`);
  const ph = phasesTable(results);
  if (ph.rows.length) parts.push(`filehaul time breakdown\n${textTable(ph)}`);
  for (const t of traffic) parts.push(`${t.scenario.title}\n${textTable(trafficRunsTable(t))}`);
  if (traffic.length) parts.push(`Traffic-control targets\n${textTable(trafficTargetsTable(traffic))}`);
  const fails = [...failures(results), ...trafficFailures(traffic)];
  if (fails.length) parts.push(`Failed runs\n${fails.join('\n')}`);
  return parts.join('\n\n');
}

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
  const verdict = (ok: boolean | null) => (ok === null ? 'n/a' : ok ? 'yes' : 'NO');
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

function trafficMarkdown(traffic: TrafficResult[]): string[] {
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
      'one second\'s worth), 429 with `retry-after-ms` beyond it. R = 6000 so that the 1000 requests of 500 files take 10 s; ' +
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
  for (const t of traffic) out.push(`### ${t.scenario.title}`, '', markdownTable(trafficRunsTable(t)), '');
  out.push('### Traffic-control targets', '', markdownTable(trafficTargetsTable(traffic)), '');
  return out;
}

function trafficFailures(traffic: TrafficResult[]): string[] {
  return traffic.flatMap((t) => t.runs.filter((run) => run.failures.length).map((run) => `- ${t.scenario.id} / run ${run.rep}: ${run.failures.slice(0, 5).join('; ')}${run.failures.length > 5 ? ` (+${run.failures.length - 5} more)` : ''}`));
}

function pct(part: number, whole: number): string {
  return `${((part / Math.max(1, whole)) * 100).toFixed(2)}%`;
}
