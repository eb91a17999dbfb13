// `filehaul status` beside a running `filehaul get`: it shows the live connection allowance of each endpoint, and
// forgets a process once it is gone (stopped cleanly or killed).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeBytes, startOrigin } from '../fixtures/files-api-origin.ts';
import type { Origin, OriginFile } from '../fixtures/files-api-origin.ts';
import { liveTrafficPath } from '../../src/main/live-traffic.ts';
import { killLeftoverChildren, makeTempDir, runCli, startCli } from './run-cli.ts';

const MiB = 1024 * 1024;
const KEY = 'sk-ant-test-status-live-key';
const ENV = { ANTHROPIC_API_KEY: KEY };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killLeftoverChildren();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ origin: Origin; dir: string; file: OriginFile }> {
  // 64 MiB at 1 MiB/s per connection: far longer than the test needs, so the download is surely still running.
  const file: OriginFile = { id: 'file_011StatusLive', filename: 'live.bin', bytes: makeBytes(64 * MiB, 7), createdAt: '2026-01-02T03:04:05Z' };
  const origin = await startOrigin({ apiKey: KEY, bytesPerSecondPerConnection: 1 * MiB, files: [file] });
  cleanups.push(() => origin.close());
  const temp = await makeTempDir();
  cleanups.push(temp.remove);
  return { origin, dir: path.join(temp.dir, 'data'), file };
}

/** A `get` killed with SIGKILL mid-download: its live-traffic file is left behind. */
async function killedMidDownload(): Promise<{ dir: string; leftover: string }> {
  const { origin, dir, file } = await setup();
  const get = startCli(['get', file.id, '--dir', dir, '--api-base', origin.url, '--json'], { env: ENV });
  await get.waitForEvent((event) => event.event === 'progress' && (event.bytes_downloaded as number) > 0);
  get.kill('SIGKILL');
  await get.exited;
  const leftover = liveTrafficPath(path.join(dir, 'tmp'), get.pid);
  expect(existsSync(leftover)).toBe(true);
  return { dir, leftover };
}

describe('filehaul status while another process downloads', () => {
  it('shows each endpoint\'s allowance from the running process, and drops it after a clean stop', async () => {
    const { origin, dir, file } = await setup();
    const get = startCli(['get', file.id, '--dir', dir, '--api-base', origin.url, '--connections', '4', '--json'], { env: ENV });
    await get.waitForEvent((event) => event.event === 'progress' && (event.bytes_downloaded as number) > 0);

    const text = await runCli(['status', '--dir', dir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Running now: pid ${get.pid}`);
    expect(text.stdout).toMatch(new RegExp(`^  ${origin.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\S*: \\d+ of \\d+ connections allowed, \\d+ in use`, 'm'));
    expect(text.stdout).not.toContain(KEY);

    const json = await runCli(['status', '--dir', dir, '--json']);
    const endpoints = json.events.filter((event) => typeof event.endpoint === 'string');
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]).toMatchObject({ pid: get.pid });
    expect(String(endpoints[0].endpoint).startsWith(origin.url)).toBe(true);
    expect(endpoints[0].allowed_connections).toBeGreaterThanOrEqual(1);
    // The download rows are still there, told apart by having no `endpoint`.
    expect(json.events.some((event) => event.download_id && event.state)).toBe(true);

    get.kill('SIGINT');
    await get.exited;
    expect(existsSync(liveTrafficPath(path.join(dir, 'tmp'), get.pid))).toBe(false);
    const after = await runCli(['status', '--dir', dir]);
    expect(after.stdout).not.toContain('Running now');
  });

  it('forgets a process that was killed without cleaning up', async () => {
    const { dir, leftover } = await killedMidDownload();

    const status = await runCli(['status', '--dir', dir]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).not.toContain('Running now');
    expect(existsSync(leftover)).toBe(false);
  });

  it('a new run removes the file a killed one left', async () => {
    const { dir, leftover } = await killedMidDownload();
    // Any command that opens the data dir cleans up; `months` is the lightest.
    await runCli(['months', '--dir', dir]);
    expect(existsSync(leftover)).toBe(false);
  });
});
