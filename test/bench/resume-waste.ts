// Resume-waste benchmark: filehaul (and aria2c -c) SIGKILLed at set shares of a throttled nginx download, then rerun to the end; waste = bytes nginx sent ÷ file size − 1.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileSize, sha256File } from './files.ts';
import { medianOrNull, trackProcessGroup } from './measure.ts';
import { countRequests, settleLog, type Nginx } from './nginx.ts';
import { invocation } from './peers.ts';

export type ResumeTool = 'filehaul' | 'aria2c';

export interface ResumeScenario {
  /** Path under the nginx root and in the URL, e.g. /throttled/file256. */
  urlPath: string;
  port: number;
  size: number;
  sha256: string;
  connections: number;
  /** Shares of the file at which a run is killed, one kill per run, in order; the run after the last kill goes to the end. */
  killAt: number[];
  /** What the origin allows all connections together (limit_rate × connections), to turn lost bytes into seconds. */
  idealBytesPerSec: number;
  tools: ResumeTool[];
}

export interface KillRecord {
  /** Share of the file the tool had reported when the kill was decided (its first progress line at or past the mark). */
  seen: number;
  /** How long after that line the kill came (spreads kills over the 1 s confirm interval; see killDelayMs). */
  delayMs: number;
  /** Share of the file the next run resumed from, as the tool says (filehaul's `start` event); null when it does not say. */
  resumedFrom: number | null;
}

export interface ResumeRun {
  tool: ResumeTool;
  rep: number;
  ok: boolean;
  /** Why the run does not count: a kill that never came, a non-zero exit at the end, wrong bytes. */
  failure: string | null;
  /** Wall time of all the tool's runs for the file together, start-ups included. */
  seconds: number;
  kills: KillRecord[];
  /** $body_bytes_sent of every request for the file over all runs (what went into the socket, read or not). */
  bytesSent: number;
  /** GETs answered 200/206, over all runs. */
  requests: number;
  /** bytesSent ÷ size − 1. */
  waste: number;
}

export interface ResumeToolResult {
  tool: ResumeTool;
  /** The command, with DIR and PORT as placeholders. */
  display: string;
  runs: ResumeRun[];
  /** Over the runs that count; null when none did. */
  medianWaste: number | null;
  worstWaste: number | null;
}

export interface ResumeResult {
  scenario: ResumeScenario;
  tools: ResumeToolResult[];
}

const GOLDEN = 0.6180339887498949;

/**
 * The wait between the progress line that crosses a kill mark and the SIGKILL: filehaul prints progress once a second
 * and confirms once a second, so killing right on the line would hit the same phase of the confirm clock every time.
 * A golden-ratio sequence spreads the kills evenly over 0–1 s, the same for every tool and every bench run.
 */
export function killDelayMs(rep: number, kill: number, kills: number): number {
  const n = (rep - 1) * kills + kill + 1;
  return Math.round(((n * GOLDEN) % 1) * 1000);
}

interface ToolCommand {
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  display: string;
  /** Where the finished file is (null when it cannot be found). */
  output(): string | null;
  /** Share of the file done, from one stdout line (null when the line does not say). */
  progress(line: string): number | null;
  /** Share the run resumed from, from one stdout line (null when the line does not say). */
  resumed(line: string): number | null;
}

function shown(url: string): string {
  return url.replace(/^http:\/\/127\.0\.0\.1:\d+/u, 'http://127.0.0.1:PORT');
}

function jsonLine(line: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(line) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function command(tool: ResumeTool, url: string, name: string, dir: string, s: ResumeScenario): ToolCommand {
  if (tool === 'filehaul') {
    const inv = invocation('filehaul', url, name, dir, s.connections, s.size);
    const share = (line: string, event: string) => {
      const rec = jsonLine(line);
      return rec && rec.event === event && typeof rec.bytes_downloaded === 'number' ? rec.bytes_downloaded / s.size : null;
    };
    return {
      cmd: inv.command.cmd,
      args: inv.command.args,
      env: inv.command.env ?? process.env,
      display: inv.display,
      output: inv.output,
      progress: (line) => share(line, 'progress'),
      resumed: (line) => share(line, 'start'),
    };
  }
  // -c with a control file saved every second (the default is every 60 s): the fair match for filehaul's 1 s confirm.
  const flags = [
    `-x${s.connections}`,
    `-s${s.connections}`,
    '-k1M',
    '--min-split-size=1M',
    '--file-allocation=none',
    '--no-conf',
    '--console-log-level=warn',
    '--summary-interval=1',
    '-c',
    '--auto-save-interval=1',
  ];
  return {
    cmd: 'aria2c',
    args: [...flags, '-d', dir, '-o', 'out', url],
    env: process.env,
    display: `aria2c ${flags.join(' ')} -d DIR -o out ${shown(url)}`,
    output: () => path.join(dir, 'out'),
    // The summary it prints every second: "[#2089b0 20MiB/64MiB(31%) CN:4 DL:8.0MiB ETA:5s]".
    progress: (line) => {
      const m = /^\[#\w+ [^\]]*\((\d+)%\)/u.exec(line.trim());
      return m ? Number(m[1]) / 100 : null;
    },
    resumed: () => null,
  };
}

interface Attempt {
  code: number | null;
  signal: string | null;
  /** Set when the kill was decided. */
  kill: { seen: number; delayMs: number } | null;
  resumedFrom: number | null;
  timedOut: boolean;
  stderrTail: string;
}

/** One run of the tool; with `killAt`, SIGKILLed (its whole process group) `delayMs` after it reports that share done. */
async function attempt(c: ToolCommand, killAt: number | null, delayMs: number, timeoutMs: number): Promise<Attempt> {
  // Own process group, so the kill takes anything the tool started with it.
  const child = spawn(c.cmd, c.args, { env: c.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const untrack = child.pid === undefined ? () => {} : trackProcessGroup(child.pid);
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  const result: Attempt = { code: null, signal: null, kill: null, resumedFrom: null, timedOut: false, stderrTail: '' };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (result.stderrTail = (result.stderrTail + text).slice(-1500)));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      result.code = code;
      result.signal = signal;
      resolve();
    });
  });
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    result.timedOut = true;
    killGroup();
  }, timeoutMs);
  for await (const line of createInterface({ input: child.stdout })) {
    result.resumedFrom ??= c.resumed(line);
    const done = c.progress(line);
    if (killAt !== null && result.kill === null && done !== null && done >= killAt) {
      result.kill = { seen: done, delayMs };
      killTimer = setTimeout(killGroup, delayMs);
    }
  }
  await exited;
  clearTimeout(timer);
  clearTimeout(killTimer);
  untrack();
  return result;
}

async function oneRun(ngx: Nginx, s: ResumeScenario, tool: ResumeTool, rep: number, workDir: string, log: (m: string) => void): Promise<{ run: ResumeRun; display: string }> {
  const url = `http://127.0.0.1:${s.port}${s.urlPath}`;
  const dir = path.join(workDir, `resume-${tool}-${rep}`);
  const c = command(tool, url, path.basename(s.urlPath), dir, s);
  const timeoutMs = (s.size / s.idealBytesPerSec) * 4000 + 60_000;
  const offset = ngx.logOffset();
  const started = performance.now();
  const kills: KillRecord[] = [];
  let failure: string | null = null;

  for (let k = 0; k <= s.killAt.length && failure === null; k++) {
    const killAt = k < s.killAt.length ? s.killAt[k] : null;
    const a = await attempt(c, killAt, killAt === null ? 0 : killDelayMs(rep, k, s.killAt.length), timeoutMs);
    if (k > 0) kills[k - 1].resumedFrom = a.resumedFrom;
    if (a.timedOut) failure = `run ${k + 1} timed out after ${(timeoutMs / 1000).toFixed(0)} s`;
    else if (killAt !== null && a.kill === null) failure = `run ${k + 1} ended (exit ${a.code ?? a.signal}) before reaching ${(killAt * 100).toFixed(0)}%: ${a.stderrTail.trim().slice(-300)}`;
    else if (killAt !== null && a.signal !== 'SIGKILL') failure = `run ${k + 1} ended by itself (exit ${a.code ?? a.signal}) in the ${a.kill!.delayMs} ms before its kill`;
    else if (killAt === null && a.code !== 0) failure = `last run: exit ${a.code ?? a.signal}: ${a.stderrTail.trim().slice(-300)}`;
    if (a.kill) kills.push({ seen: a.kill.seen, delayMs: a.kill.delayMs, resumedFrom: null });
  }
  const seconds = (performance.now() - started) / 1000;

  if (failure === null) {
    const out = c.output();
    if (out === null) failure = `output file not found under ${dir}`;
    else if (fileSize(out) !== s.size) failure = `output size ${fileSize(out)} != ${s.size}`;
    else if ((await sha256File(out)) !== s.sha256) failure = 'sha256 mismatch';
  }
  // nginx logs a request when it ends (a killed one when it notices the reset): wait until at least the file is in.
  const lines = await settleLog(ngx, offset, (l) => countRequests(l, s.urlPath).bytes >= s.size);
  const counted = countRequests(lines, s.urlPath);
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}-home`, { recursive: true, force: true });

  const waste = counted.bytes / s.size - 1;
  const pct = (v: number | null) => (v === null ? '?' : `${(v * 100).toFixed(1)}%`);
  log(
    `  resume-${tool}-${rep}`.padEnd(22) +
      ` ${seconds.toFixed(2).padStart(7)} s  kills ${kills.map((k) => `${pct(k.seen)}+${k.delayMs}ms→${pct(k.resumedFrom)}`).join(', ')}  ` +
      `GETs ${counted.content}  sent ${(counted.bytes / 2 ** 20).toFixed(1)} MiB  waste ${(waste * 100).toFixed(2)}%` +
      (failure ? `  FAILED: ${failure}` : '  ok'),
  );
  return {
    run: { tool, rep, ok: failure === null, failure, seconds, kills, bytesSent: counted.bytes, requests: counted.content, waste },
    display: c.display,
  };
}

/** Runs every tool `reps` times, tools interleaved and their order rotated each repetition. */
export async function runResumeWaste(ngx: Nginx, s: ResumeScenario, reps: number, workDir: string, log: (m: string) => void): Promise<ResumeResult> {
  const byTool = new Map<ResumeTool, ResumeToolResult>(s.tools.map((t) => [t, { tool: t, display: '', runs: [], medianWaste: null, worstWaste: null }]));
  for (let rep = 1; rep <= reps; rep++) {
    for (let i = 0; i < s.tools.length; i++) {
      const tool = s.tools[(i + rep - 1) % s.tools.length];
      const { run, display } = await oneRun(ngx, s, tool, rep, workDir, log);
      const tr = byTool.get(tool)!;
      tr.display = display;
      tr.runs.push(run);
    }
  }
  for (const tr of byTool.values()) {
    const good = tr.runs.filter((r) => r.ok).map((r) => r.waste);
    tr.medianWaste = medianOrNull(good);
    tr.worstWaste = good.length ? Math.max(...good) : null;
  }
  return { scenario: s, tools: [...byTool.values()] };
}
