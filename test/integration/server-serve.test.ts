// `filehaul serve` with an injected controller factory: the one printed line, --demo wiring, usage errors, clean Ctrl-C.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runServeWith } from '../../src/main/cli/serve.ts';
import { UsageError } from '../../src/main/cli/options.ts';
import type { CommandIo } from '../../src/main/cli/get.ts';
import { DEMO_API_KEY } from '../../src/main/demo/demo-origin.ts';
import type { ControllerOptions } from '../../src/main/server/handler.ts';
import { createStubHandler, type StubHandler } from './server-harness.ts';

interface Run {
  exit: Promise<number>;
  /** The first stdout line. */
  line: Promise<string>;
  stdout: string[];
  stderr: string[];
  interrupt(): void;
  options: Promise<ControllerOptions>;
  controller: StubHandler;
}

let running: Run | null = null;
let dataDir: string;
beforeEach(async () => {
  // The controller is a stub and never touches it; the settings loader only looks for a config.ini there.
  dataDir = await mkdtemp(path.join(tmpdir(), 'filehaul-serve-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
  // A test that failed half-way must not leave a server listening.
  running?.interrupt();
  await running?.exit.catch(() => {});
  running = null;
});

function serve(args: string[]): Run {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let interruptHandler: (() => void) | null = null;
  let pendingInterrupt = false;
  let gotLine: (line: string) => void = () => {};
  const line = new Promise<string>((resolve) => (gotLine = resolve));
  let gotOptions: (options: ControllerOptions) => void = () => {};
  const options = new Promise<ControllerOptions>((resolve) => (gotOptions = resolve));
  const controller = createStubHandler();
  const io: CommandIo = {
    stdout: { isTTY: false, write: (text) => (stdout.push(text), gotLine(text)) },
    stderr: { isTTY: false, write: (text) => void stderr.push(text) },
    onInterrupt(handler) {
      interruptHandler = handler;
      if (pendingInterrupt) handler();
      return () => (interruptHandler = null);
    },
  };
  const exit = runServeWith(args, io, async (given) => {
    gotOptions(given);
    return controller;
  });
  const run: Run = {
    exit, line, stdout, stderr, options, controller,
    interrupt() {
      pendingInterrupt = true;
      interruptHandler?.();
    },
  };
  running = run;
  return run;
}

function parseLine(line: string): { base: string; token: string } {
  const match = /^Filehaul is serving at (http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9_-]{43})( \(demo data\))?\n$/.exec(line);
  if (!match) throw new Error(`unexpected line: ${line}`);
  return { base: match[1], token: match[2] };
}

describe('filehaul serve', () => {
  it('prints one line with the URL and token, serves the API, and closes everything on Ctrl-C', async () => {
    const run = serve(['--port', '0', '--dir', dataDir, '--connections', '4']);
    const { base, token } = parseLine(await run.line);
    const options = await run.options;
    expect(options).toMatchObject({ dataDir, demo: false });
    expect(options.engine.connections).toBe(4);

    run.controller.replies.listDownloads = () => [];
    const list = await request(`${base}/api/downloads`, { headers: { authorization: `Bearer ${token}` } });
    expect(list.statusCode).toBe(200);
    expect(await list.body.json()).toEqual([]);
    const page = await request(`${base}/`);
    expect(page.statusCode).toBe(200);
    await page.body.text();

    run.interrupt();
    expect(await run.exit).toBe(0);
    expect(run.controller.closed).toBe(true);
    expect(run.stdout).toHaveLength(1);
    expect(run.stderr).toEqual([]);
    await expect(request(`${base}/`)).rejects.toThrow();
  });

  it('--demo starts the sample Files API, points the controller at it with the demo key, and never reads the real key', async () => {
    const before = process.env.ANTHROPIC_API_KEY;
    process.env.ANTHROPIC_API_KEY = 'sk-ant-real-key-must-not-be-used';
    try {
      const run = serve(['--port', '0', '--demo']);
      const line = await run.line;
      expect(line).toMatch(/ \(demo data\)\n$/);
      const options = await run.options;
      expect(options).toMatchObject({ demo: true, apiKey: DEMO_API_KEY, dataDir: path.resolve('data-demo'), backupApiBase: null });
      const listing = await request(`${options.apiBase}/v1/files?limit=2`, { headers: { 'x-api-key': DEMO_API_KEY } });
      expect(listing.statusCode).toBe(200);
      expect(((await listing.body.json()) as { data: unknown[] }).data).toHaveLength(2);
      run.interrupt();
      expect(await run.exit).toBe(0);
      await expect(request(`${options.apiBase}/v1/files`)).rejects.toThrow();
    } finally {
      if (before === undefined) delete process.env.ANTHROPIC_API_KEY;
      else process.env.ANTHROPIC_API_KEY = before;
    }
  });

  it('explains usage mistakes', async () => {
    const cases: [string[], RegExp][] = [
      [['--port', 'http'], /--port must be a whole number from 0 to 65535/],
      [['--port', '70000'], /--port/],
      [['--demo', '--api-base', 'https://api.anthropic.com'], /--demo brings its own Files API and key: leave out --api-base/],
      [['--demo', '--backup-api-base', 'https://backup.example'], /leave out --backup-api-base/],
      [['--json'], /Unknown option '--json'/],
      [['file_abc'], /Unexpected argument 'file_abc'/],
      [['--connections', '99'], /--connections 99 on the command line: must be a whole number from 1 to 32/],
    ];
    for (const [args, message] of cases) {
      const run = serve(args);
      // A bad settings value is a SettingsError (main maps it to exit 2 like a UsageError).
      await expect(run.exit).rejects.toSatisfy((error: Error) => (error instanceof UsageError || error.name === 'SettingsError') && message.test(error.message));
      running = null;
    }
  });

  it('prints its help', async () => {
    const run = serve(['--help']);
    expect(await run.exit).toBe(0);
    expect(run.stdout.join('')).toMatch(/Usage: filehaul serve/);
  });

  it('says plainly when the port is taken, and closes the controller it opened', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address() as AddressInfo;
      const run = serve(['--port', String(port)]);
      await expect(run.exit).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
      expect(run.controller.closed).toBe(true);
      running = null;
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
