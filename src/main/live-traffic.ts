// The live traffic of a running Filehaul, shared through a small file so `filehaul status` (another process) can show
// each endpoint's connection allowance, cool-down and budget wait while downloads run elsewhere.
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TrafficStats } from './engine/traffic/traffic-types.ts';
import { processAlive } from './util/process-alive.ts';

const FILE_PREFIX = 'traffic-';
const FILE_SUFFIX = '.json';
/** Unchanged figures are written again this often, so a reader can tell a live writer from a file whose pid was reused. */
const HEARTBEAT_MS = 30_000;
/** A file not rewritten for this long is not shown: its writer is gone (and its pid now names another process) or hung. */
const STALE_MS = 4 * HEARTBEAT_MS;

/** What one running process reports: its pid, when it wrote, and its traffic client's figures. */
export interface LiveTraffic {
  pid: number;
  writtenAt: number;
  stats: TrafficStats;
}

export interface LiveTrafficWriter {
  /** Writes now if anything changed (the service calls it after events; the timer covers quiet stretches). */
  refresh(): void;
  /** Removes the file: a finished process has no live traffic. */
  stop(): void;
}

/**
 * Keeps `tmpDir/traffic-<pid>.json` up to date with `stats()`, at most once per `intervalMs`. The file is replaced
 * by rename, so a reader sees the previous or the next version, never half of one. Nothing here may throw into the
 * downloads: the file is a window onto them, so a failed write is skipped and tried again on the next tick.
 */
export function startLiveTrafficFile(tmpDir: string, stats: () => TrafficStats, intervalMs = 1000, now: () => number = Date.now): LiveTrafficWriter {
  const file = liveTrafficPath(tmpDir, process.pid);
  let lastBody = '';
  let lastLook = -Infinity;
  let lastWrite = -Infinity;
  const write = (force: boolean) => {
    if (!force && now() - lastLook < intervalMs) return;
    lastLook = now();
    const current = stats();
    const body = JSON.stringify(current);
    if (body === lastBody && lastLook - lastWrite < HEARTBEAT_MS) return;
    const live: LiveTraffic = { pid: process.pid, writtenAt: lastLook, stats: current };
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(live), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      lastBody = body;
      lastWrite = lastLook;
    } catch {
      // A full or read-only disk: the downloads report that themselves; this window simply stays stale.
    }
  };
  const timer = setInterval(() => write(true), intervalMs);
  timer.unref();
  write(true);
  return {
    refresh: () => write(false),
    stop() {
      clearInterval(timer);
      rmSync(file, { force: true });
      rmSync(`${file}.tmp`, { force: true });
    },
  };
}

/**
 * The live traffic of every other Filehaul process on this data dir that is still running, and wrote within
 * STALE_MS. Files left by a process that died (kill -9) are removed on the way: their figures describe nothing.
 */
export function readLiveTraffic(tmpDir: string, now: number = Date.now()): LiveTraffic[] {
  const found: LiveTraffic[] = [];
  for (const { pid, file } of otherLiveFiles(tmpDir)) {
    try {
      const live = JSON.parse(readFileSync(file, 'utf8')) as LiveTraffic;
      const fresh = typeof live?.writtenAt === 'number' && now - live.writtenAt < STALE_MS;
      if (fresh && live.pid === pid && Array.isArray(live.stats?.endpoints)) found.push(live);
    } catch {
      // Unreadable or mid-replacement on a file system without atomic rename: skip this one look.
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** Removes the files of processes that died without cleaning up (kill -9, power loss); run when a service opens. */
export function removeDeadTrafficFiles(tmpDir: string): void {
  // Walking the files is what removes the dead ones; the live ones are not read.
  Array.from(otherLiveFiles(tmpDir));
}

/** The traffic files of other processes that are alive; those of dead processes are deleted as they are met. */
function* otherLiveFiles(tmpDir: string): Generator<{ pid: number; file: string }> {
  let names: string[];
  try {
    names = readdirSync(tmpDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(FILE_PREFIX) || !name.endsWith(FILE_SUFFIX)) continue;
    const pid = Number(name.slice(FILE_PREFIX.length, -FILE_SUFFIX.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    const file = path.join(tmpDir, name);
    if (processAlive(pid)) yield { pid, file };
    else rmSync(file, { force: true });
  }
}

export function liveTrafficPath(tmpDir: string, pid: number): string {
  return path.join(tmpDir, `${FILE_PREFIX}${pid}${FILE_SUFFIX}`);
}
