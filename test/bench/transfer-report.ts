// Transfer report: throttled and loopback runs of filehaul, aria2c and curl, requests per file and filehaul's time phases, as tables for stdout and docs/benchmarks.md.
import { MiB } from './files.ts';
import { LIMIT_RATE } from './nginx.ts';
import type { ReportMeta } from './report.ts';
import type { ScenarioResult, ToolResult } from './scenarios.ts';
import { fix, markdownTable, onlyFlags, sizeLabel, type Table } from './tables.ts';

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
    if (s.idealBytesPerSec) row.push(t.seconds === null ? 'n/a' : `${((s.size / t.seconds / s.idealBytesPerSec) * 100).toFixed(1)}%`);
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

export function transferFailures(results: ScenarioResult[]): string[] {
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

/** A scenario's title without the number the scenarios give themselves (the document orders its own sections). */
export function untitled(title: string): string {
  return title.replace(/^\d+\.\s*/u, '');
}

function reps(res: ScenarioResult): number {
  return Math.max(0, ...res.tools.map((t) => t.runs.length));
}

/** The throttled and loopback sections, requests per file and the time breakdown, in markdown. */
export function transferMarkdown(results: ScenarioResult[], meta: ReportMeta): string[] {
  const out: string[] = [];
  if (results.length) out.push(
    '## Transfers against nginx',
    '',
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
    out.push(`### ${untitled(res.scenario.title)}`, '', `Reproduce: \`npm run bench -- ${onlyFlags(s.id, meta.quick)}\` (${reps(res)} run(s) per tool here).`, '');
    if (s.idealBytesPerSec) {
      out.push(
        `nginx: \`listen 127.0.0.1:PORT sndbuf=64k;\` and \`location /throttled/ { limit_rate ${LIMIT_RATE}; }\` — ` +
          `${LIMIT_RATE} is 2 × 1,048,576 bytes/s per connection, so the ideal for ${s.connections} connections is ` +
          `${(s.idealBytesPerSec / MiB).toFixed(0)} MiB/s (${sizeLabel(s.size)} in ${(s.size / s.idealBytesPerSec).toFixed(1)} s). ` +
          'nginx lets each response run up to one second ahead of its rate, so short transfers can exceed 100%.',
        '',
      );
      if (res.tools.some((t) => t.tool === 'curl-ranges')) {
        out.push(
          '`curl-ranges` is a reference, not a downloader: told the size, it starts one `curl -r` per connection at ' +
            'once, each piped through `dd` to its offset of one file, with no probe, no hash, no fsync and no catalog. ' +
            'Beside filehaul it shows how much of the time is the origin\'s (nginx paces each response) and how much is the client\'s own.',
          '',
        );
      }
    }
    out.push(markdownTable(scenarioTable(res, meta)), '', 'Commands:', '', '```sh');
    for (const t of res.tools) out.push(t.display);
    out.push('```', '');
  }
  if (results.length) out.push(
    '### Requests per file',
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
      '### Where filehaul\'s time goes',
      '',
      'From the timestamps of its `--json` events: start-up = spawn → first event, transfer = first event → ' +
        '`verifying`, verify = `verifying` → `done`, exit = `done` → process exit.',
      '',
      markdownTable(ph),
      '',
    );
  }
  return out;
}
