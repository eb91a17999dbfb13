// The live-traffic file: what a running process writes for `filehaul status`, how often, and how stale files are dropped.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrafficStats } from '../../src/main/engine/traffic/traffic-types.ts';
import { liveTrafficPath, readLiveTraffic, startLiveTrafficFile } from '../../src/main/live-traffic.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'filehaul-live-'));
  dirs.push(dir);
  return dir;
}

function stats(connectionLimit: number): TrafficStats {
  return {
    requests: 10,
    byStatus: { '200': 9, '429': 1 },
    rateLimited: 1,
    overloaded: 0,
    failovers: 0,
    endpoints: [{ endpoint: 'https://api.example', connectionLimit, connectionMax: 8, inUse: 1, waitingForConnection: 0, coolingUntil: null, consecutiveOverloads: 0, requestsPerMinute: 100, waitingForBudget: 2, budgetWaitingUntil: 1_000 }],
  };
}

/** The pid of a process that has certainly exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('live traffic file', () => {
  it('writes the stats at once, again only after the interval when they change, and removes the file on stop', () => {
    const dir = tempDir();
    let now = 0;
    let limit = 8;
    const writer = startLiveTrafficFile(dir, () => stats(limit), 1000, () => now);
    const file = liveTrafficPath(dir, process.pid);
    const read = () => JSON.parse(readFileSync(file, 'utf8'));
    expect(read()).toMatchObject({ pid: process.pid, writtenAt: 0, stats: { endpoints: [{ connectionLimit: 8 }] } });

    limit = 4;
    now = 500;
    writer.refresh();
    expect(read().stats.endpoints[0].connectionLimit).toBe(8); // within the interval: not yet
    now = 1000;
    writer.refresh();
    expect(read()).toMatchObject({ writtenAt: 1000, stats: { endpoints: [{ connectionLimit: 4 }] } });

    // Unchanged figures are written again as a heartbeat, so readers can tell a live writer from a reused pid.
    now = 20_000;
    writer.refresh();
    expect(read().writtenAt).toBe(1000);
    now = 31_000;
    writer.refresh();
    expect(read().writtenAt).toBe(31_000);

    writer.stop();
    expect(existsSync(file)).toBe(false);
  });

  it('does not show a file its writer stopped refreshing two minutes ago (its pid may name another process now)', () => {
    const dir = tempDir();
    const parent = process.ppid;
    writeFileSync(liveTrafficPath(dir, parent), JSON.stringify({ pid: parent, writtenAt: 1_000_000, stats: stats(2) }));
    expect(readLiveTraffic(dir, 1_000_000 + 60_000)).toHaveLength(1);
    expect(readLiveTraffic(dir, 1_000_000 + 121_000)).toEqual([]);
  });

  it('reads the files of live processes other than this one, and deletes those whose process is gone', async () => {
    const dir = tempDir();
    const parent = process.ppid; // alive for the whole test
    writeFileSync(liveTrafficPath(dir, parent), JSON.stringify({ pid: parent, writtenAt: Date.now(), stats: stats(2) }));
    const dead = await deadPid();
    writeFileSync(liveTrafficPath(dir, dead), JSON.stringify({ pid: dead, writtenAt: Date.now(), stats: stats(3) }));
    const own = startLiveTrafficFile(dir, () => stats(8));
    writeFileSync(path.join(dir, 'traffic-junk.json'), '{');

    const live = readLiveTraffic(dir);
    expect(live.map((entry) => [entry.pid, entry.stats.endpoints[0].connectionLimit])).toEqual([[parent, 2]]);
    expect(existsSync(liveTrafficPath(dir, dead))).toBe(false);
    own.stop();
  });

  it('skips a file that does not parse or has the wrong shape', () => {
    const dir = tempDir();
    writeFileSync(liveTrafficPath(dir, process.ppid), 'not json');
    expect(readLiveTraffic(dir)).toEqual([]);
    writeFileSync(liveTrafficPath(dir, process.ppid), JSON.stringify({ pid: process.ppid, stats: {} }));
    expect(readLiveTraffic(dir)).toEqual([]);
    expect(readLiveTraffic(path.join(dir, 'missing'))).toEqual([]);
  });
});
