// Test helper: runs `bin/filehaul.mjs` as a child process, collects its output, parses JSON lines and lets tests await events.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(REPO_ROOT, 'bin', 'filehaul.mjs');

/** One parsed JSON line of `--json` output. */
export type JsonEvent = Record<string, unknown> & { event?: string };

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Every stdout line that parsed as a JSON object, in order. */
  events: JsonEvent[];
  /** Every non-empty stdout line that did not parse as a JSON object. */
  otherLines: string[];
  /** stderr split into non-empty lines. */
  stderrLines: string[];
}

export interface CliProcess {
  child: ChildProcess;
  pid: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly events: JsonEvent[];
  /** Resolves with the first JSON event (past or future) matching `predicate`; rejects if the process exits first. */
  waitForEvent(predicate: (event: JsonEvent) => boolean, timeoutMs?: number): Promise<JsonEvent>;
  /** Resolves once the process has exited and its output streams are closed. */
  exited: Promise<CliResult>;
  kill(signal: NodeJS.Signals): void;
}

export interface CliOptions {
  /** Added to a clean environment: PATH, HOME, TMPDIR, LANG and TZ from ours, never ANTHROPIC_* or NODE_OPTIONS. */
  env?: Record<string, string>;
  cwd?: string;
}

const running = new Set<ChildProcess>();

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'SYSTEMROOT']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // The request budget (100 a minute by default) is tested on its own; CLI tests run with it out of the way.
  return { ...env, FILEHAUL_RPM: '100000', ...extra };
}

/** Starts `filehaul <args>`; the caller awaits `exited` (or kills it). */
export function startCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let pending = '';
  const events: JsonEvent[] = [];
  const otherLines: string[] = [];
  let waiters: Array<{ predicate: (event: JsonEvent) => boolean; resolve: (event: JsonEvent) => void }> = [];
  let exitListeners: Array<(result: CliResult) => void> = [];

  const takeLine = (line: string) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      otherLines.push(line);
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      otherLines.push(line);
      return;
    }
    const event = parsed as JsonEvent;
    events.push(event);
    waiters = waiters.filter((waiter) => {
      if (!waiter.predicate(event)) return true;
      waiter.resolve(event);
      return false;
    });
  };

  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    stdout += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) takeLine(line);
  });
  child.stderr!.on('data', (text: string) => {
    stderr += text;
  });

  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    // 'close' comes after 'exit' and after both pipes have ended, so the output is complete.
    child.once('close', (code, signal) => {
      running.delete(child);
      if (pending) takeLine(pending);
      pending = '';
      const result: CliResult = {
        code,
        signal,
        stdout,
        stderr,
        events,
        otherLines,
        stderrLines: stderr.split('\n').filter((line) => line.trim() !== ''),
      };
      for (const listener of exitListeners) listener(result);
      exitListeners = [];
      resolve(result);
    });
  });
  let exitedResult: CliResult | null = null;
  void exited.then((result) => (exitedResult = result), () => {});

  return {
    child,
    pid: child.pid!,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    events,
    exited,
    kill(signal) {
      child.kill(signal);
    },
    waitForEvent(predicate, timeoutMs = 30_000) {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise<JsonEvent>((resolve, reject) => {
        const fail = (why: string) => reject(new Error(`${why} before the awaited JSON event.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        if (exitedResult) return fail(`filehaul had exited (code ${exitedResult.code}, signal ${exitedResult.signal})`);
        // A safety net against a hung child, not a wait for the event: tests resolve on the event itself.
        const timer = setTimeout(() => {
          waiters = waiters.filter((waiter) => waiter !== entry);
          fail(`no such event within ${timeoutMs} ms`);
        }, timeoutMs);
        const entry = {
          predicate,
          resolve: (event: JsonEvent) => {
            clearTimeout(timer);
            exitListeners = exitListeners.filter((listener) => listener !== onExit);
            resolve(event);
          },
        };
        const onExit = (result: CliResult) => {
          clearTimeout(timer);
          waiters = waiters.filter((waiter) => waiter !== entry);
          fail(`filehaul exited (code ${result.code}, signal ${result.signal})`);
        };
        waiters.push(entry);
        exitListeners.push(onExit);
      });
    },
  };
}

/** Runs `filehaul <args>` to its end. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).exited;
}

/** Kills (SIGKILL) every child this helper started that is still running, and waits for them; for afterEach. */
export async function killLeftoverChildren(): Promise<void> {
  const left = [...running];
  await Promise.all(
    left.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** A fresh temporary directory and the function that removes it. */
export async function makeTempDir(prefix = 'filehaul-cli-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every regular file under `root`, as absolute paths (empty when root does not exist). */
export async function filesUnder(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true, recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name)).sort();
}

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** YYYY-MM of a date in UTC. */
export function utcMonth(when: Date | string): string {
  return new Date(when).toISOString().slice(0, 7);
}

/** The five fields the JSON reporter promises on every line. */
export const LOG_FIELDS = ['timestamp', 'file_id', 'bytes_downloaded', 'duration_ms', 'retry_count'] as const;
