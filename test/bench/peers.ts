// The downloaders under test: the exact command line of filehaul, aria2c, curl and parallel curl ranges, and where each leaves its output.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from './measure.ts';
import { findFilehaulOutput } from './files.ts';

/** Every tool the bench knows, in the order a run lists them. */
export const TOOLS = ['filehaul', 'aria2c', 'curl', 'curl-ranges'] as const;
export type Tool = (typeof TOOLS)[number];

/**
 * 'curl-ranges' is a reference, not a downloader anyone would ship: the same equal ranges with nothing around them.
 * It is told the size, so it needs no probe, and starts one curl per connection at once, each piping its range
 * through dd to its offset of one file: no planning, no hash, no fsync, no catalog, a few ms of start-up per process.
 * Set beside filehaul it shows how much of filehaul's time is the origin's and how much is filehaul's own.
 */
const CURL_RANGES_SCRIPT = [
  'url=$1; size=$2; n=$3; out=$4; : > "$out"; pids=()',
  'for ((i = 0; i < n; i++)); do a=$((size * i / n)); b=$((size * (i + 1) / n - 1))',
  '  ( set -o pipefail; curl -sf -r "$a-$b" "$url" | dd of="$out" bs=64K seek="$a" oflag=seek_bytes conv=notrunc status=none ) & pids+=($!)',
  'done',
  'for p in "${pids[@]}"; do wait "$p" || exit 1; done',
].join('\n');

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILEHAUL_BIN = path.join(REPO_ROOT, 'bin', 'filehaul.mjs');

export interface Invocation {
  command: Command;
  /** The command with temp paths and the port replaced by placeholders, for docs/benchmarks.md. */
  display: string;
  /** Where the downloaded file ended up (null when it cannot be found). */
  output(): string | null;
}

/** Env for filehaul: HOME and XDG dirs point into the run's temp dir so nothing outside it is touched. */
function isolatedEnv(home: string): NodeJS.ProcessEnv {
  mkdirSync(home, { recursive: true });
  return {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
  };
}

function shown(url: string): string {
  return url.replace(/^http:\/\/127\.0\.0\.1:\d+/u, 'http://127.0.0.1:PORT');
}

/**
 * One download of `url` by `tool` with `connections` connections into the fresh directory `dir`
 * (`name` is the source file's name, used to find filehaul's archived copy; `size` its length, which only
 * 'curl-ranges' is given).
 */
export function invocation(tool: Tool, url: string, name: string, dir: string, connections: number, size: number): Invocation {
  mkdirSync(dir, { recursive: true });
  switch (tool) {
    case 'filehaul': {
      const args = [FILEHAUL_BIN, 'get', url, '--dir', dir, '--connections', String(connections), '--json'];
      return {
        command: { cmd: process.execPath, args, env: isolatedEnv(path.join(dir, '..', `${path.basename(dir)}-home`)) },
        display: `node bin/filehaul.mjs get ${shown(url)} --dir DIR --connections ${connections} --json`,
        output: () => findFilehaulOutput(dir, name),
      };
    }
    case 'aria2c': {
      const flags = [
        `-x${connections}`,
        `-s${connections}`,
        '-k1M',
        '--min-split-size=1M',
        '--file-allocation=none',
        '--allow-overwrite=true',
        '--no-conf',
        '--console-log-level=warn',
        '--summary-interval=0',
      ];
      return {
        command: { cmd: 'aria2c', args: [...flags, '-d', dir, '-o', 'out', url] },
        display: `aria2c ${flags.join(' ')} -d DIR -o out ${shown(url)}`,
        output: () => path.join(dir, 'out'),
      };
    }
    case 'curl': {
      const file = path.join(dir, 'out');
      return {
        command: { cmd: 'curl', args: ['-s', '-o', file, url] },
        display: `curl -s -o DIR/out ${shown(url)}`,
        output: () => file,
      };
    }
    case 'curl-ranges': {
      const file = path.join(dir, 'out');
      return {
        command: { cmd: 'bash', args: ['-c', CURL_RANGES_SCRIPT, 'curl-ranges', url, String(size), String(connections), file] },
        display: `bash -c '<one \`curl -sf -r A-B URL | dd of=DIR/out seek=A oflag=seek_bytes conv=notrunc\` per connection, all at once>' (see test/bench/peers.ts)`,
        output: () => file,
      };
    }
  }
}

export interface FilehaulEvents {
  /** Count of JSON lines by their `type`/`event` field. */
  byType: Record<string, number>;
  /** Lines on stdout that were not JSON objects. */
  nonJson: number;
  /** The last `error` event's message, if any. */
  lastError: string | null;
  /** Timestamps (ms) of the first event, the first `verifying` state and the `done` event. */
  firstAt: number | null;
  verifyingAt: number | null;
  doneAt: number | null;
  /** What the `done` event reports. */
  requestCount: number | null;
  retryCount: number | null;
}

/** Summarises filehaul's `--json` output (one JSON object per line). */
export function parseFilehaulEvents(stdout: string): FilehaulEvents {
  const ev: FilehaulEvents = {
    byType: {},
    nonJson: 0,
    lastError: null,
    firstAt: null,
    verifyingAt: null,
    doneAt: null,
    requestCount: null,
    retryCount: null,
  };
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      ev.nonJson++;
      continue;
    }
    if (obj === null || typeof obj !== 'object') {
      ev.nonJson++;
      continue;
    }
    const rec = obj as Record<string, unknown>;
    const type = String(rec.type ?? rec.event ?? rec.kind ?? '?');
    ev.byType[type] = (ev.byType[type] ?? 0) + 1;
    if (type === 'error') ev.lastError = String(rec.message ?? rec.error ?? line).slice(0, 300);
    const at = typeof rec.timestamp === 'string' ? Date.parse(rec.timestamp) : NaN;
    if (Number.isNaN(at)) continue;
    ev.firstAt ??= at;
    if (type === 'state' && rec.state === 'verifying') ev.verifyingAt ??= at;
    if (type === 'done') {
      ev.doneAt = at;
      ev.requestCount = typeof rec.request_count === 'number' ? rec.request_count : null;
      ev.retryCount = typeof rec.retry_count === 'number' ? rec.retry_count : null;
    }
  }
  return ev;
}
