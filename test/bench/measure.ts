// Runs one benchmark command: wall time, exit status, captured output and peak RSS (via /usr/bin/time when present).
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

const TIME_BIN = '/usr/bin/time';

function hasGnuTime(): boolean {
  if (process.env.FILEHAUL_BENCH_NO_TIME) return false; // exercise the fallback where GNU time is installed
  try {
    accessSync(TIME_BIN, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** How peak RSS is measured on this machine: GNU time's %M, or polling the child's VmHWM (approximate). */
export const rssMethod: 'time' | 'poll' = hasGnuTime() ? 'time' : 'poll';

export interface Command {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  seconds: number;
  code: number | null;
  signal: string | null;
  /** Peak resident set size in KiB, or null when it could not be read. */
  rssKiB: number | null;
  /** User + system CPU seconds of the tool (GNU time only), or null. */
  cpuSeconds: number | null;
  stdoutFile: string;
  stderrFile: string;
  /** Wall-clock ms (Date.now) at spawn and at exit, to line up with the tool's own timestamps. */
  startedAt: number;
  endedAt: number;
}

// Process groups of the tools now running, so an interrupted bench can end them (they are detached from our group).
const running = new Set<number>();

/** Registers a detached child's process group so an interrupted bench ends it too; call the returned function once it exited. */
export function trackProcessGroup(pgid: number): () => void {
  running.add(pgid);
  return () => running.delete(pgid);
}

/** Kills every tool still running (on SIGINT/SIGTERM of the bench). */
export function killRunning(): void {
  for (const pgid of running) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {}
  }
  running.clear();
}

function readVmHWM(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s*kB/u.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Runs `command`, its stdout/stderr going to files under `logDir` named after `label`. */
export async function timedRun(command: Command, logDir: string, label: string, timeoutMs: number): Promise<RunResult> {
  const stdoutFile = path.join(logDir, `${label}.stdout`);
  const stderrFile = path.join(logDir, `${label}.stderr`);
  const rssFile = path.join(logDir, `${label}.rss`);
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  const [cmd, args] =
    rssMethod === 'time' ? [TIME_BIN, ['-f', '%M %U %S', '-o', rssFile, command.cmd, ...command.args]] : [command.cmd, command.args];

  const startedAt = Date.now();
  const start = performance.now();
  // Own process group, so a timeout ends the tool and not just the /usr/bin/time wrapper around it.
  const child = spawn(cmd, args, { stdio: ['ignore', out, err], env: command.env ?? process.env, detached: true });
  closeSync(out);
  closeSync(err);
  if (child.pid !== undefined) running.add(child.pid);
  let polled: number | null = null;
  const poll =
    rssMethod === 'poll'
      ? setInterval(() => {
          const v = child.pid === undefined ? null : readVmHWM(child.pid);
          if (v !== null) polled = Math.max(polled ?? 0, v);
        }, 100)
      : undefined;
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }, timeoutMs);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  const seconds = (performance.now() - start) / 1000;
  const endedAt = Date.now();
  if (child.pid !== undefined) running.delete(child.pid);
  clearTimeout(timer);
  if (poll) clearInterval(poll);

  let rssKiB: number | null = polled;
  let cpuSeconds: number | null = null;
  if (rssMethod === 'time') {
    rssKiB = null;
    try {
      // GNU time writes "Command exited with non-zero status N" before the values on failure: take the last line.
      const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
      const [m, u, s] = lines[lines.length - 1].split(' ').map(Number);
      if (Number.isFinite(m) && m > 0) rssKiB = m;
      if (Number.isFinite(u) && Number.isFinite(s)) cpuSeconds = u + s;
    } catch {}
  }
  return { seconds, code, signal, rssKiB, cpuSeconds, stdoutFile, stderrFile, startedAt, endedAt };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median of the non-null values, or null when there are none. */
export function medianOrNull(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length ? median(v) : null;
}

export function tail(file: string, chars = 1500): string {
  try {
    const t = readFileSync(file, 'utf8');
    return t.length > chars ? '…' + t.slice(-chars) : t;
  } catch {
    return '';
  }
}
