// The browser door for real: the renderer build served by src/main/server (startServer) with the fake API as its handler,
// in Chromium with no fake in the page. Proves the token handling, /api/rpc, the events WebSocket and its reconnect.
import { rm } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilehaulApi } from '../../src/shared/contract.ts';
import { startServer, type RunningServer } from '../../src/main/server/http-server.ts';
import { installFakeApi, type FakeControl } from './fake-api.ts';
import { buildRenderer, chromiumMissing, launchChromium } from './renderer-harness.ts';

/** vitest's expect.poll gives up after 1 s, too short on a loaded two-core CI box; the page is the slow part, not the test. */
const poll = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

const skipReason = chromiumMissing();
const suffix = skipReason ? ` (skipped: ${skipReason})` : '';
const TOKEN = 'k7Qw-test_token_0123456789abcdefghijklmnopq';

/** Runs the in-page fake in Node: it only needs a `window` to hang itself on. */
function nodeFake(): { api: FilehaulApi; control: FakeControl } {
  const g = globalThis as unknown as { window?: unknown };
  const saved = g.window;
  const shim = {} as Window;
  g.window = shim;
  try {
    installFakeApi({ door: 'web', desktopActions: false });
  } finally {
    g.window = saved;
  }
  return { api: shim.__FILEHAUL_FAKE_API__!, control: shim.__fake! };
}

let browser: Browser;
let outDir = '';
let server: RunningServer;
let port = 0;
let fake: ReturnType<typeof nodeFake>;
const requests: string[] = [];

async function serve(): Promise<RunningServer> {
  const handler: FilehaulApi = {
    request(name, args) {
      requests.push(name);
      return fake.api.request(name, args);
    },
    on: (name, listener) => fake.api.on(name, listener),
  };
  return startServer({ handler, staticDir: outDir, token: TOKEN, port });
}

async function open(token: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${server.url}/#token=${token}`);
  await page.getByRole('tablist').waitFor();
  return page;
}

describe('renderer through filehaul serve', () => {
  beforeAll(async () => {
    if (skipReason) return;
    fake = nodeFake();
    outDir = await buildRenderer();
    server = await serve();
    port = Number(new URL(server.url).port);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it.skipIf(skipReason)(`takes the token from #token=, hides it, and speaks rpc + events with it${suffix}`, async () => {
    const page = await open(TOKEN);
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    expect(await page.evaluate(() => location.href)).toBe(`${server.url}/`);
    expect(await page.evaluate(() => sessionStorage.getItem('filehaul.token'))).toBe(TOKEN);

    const row = page.getByRole('listitem', { name: 'training-data.jsonl', exact: true });
    const bar = row.getByRole('progressbar', { name: 'Progress' });
    await row.waitFor();
    const before = Number(await bar.getAttribute('aria-valuenow'));
    // Progress travels engine → server (coalesced) → WebSocket → store → bar.
    fake.control.tick(2);
    await poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(before);

    await row.getByRole('button', { name: 'Pause', exact: true }).click();
    await row.getByText('Paused', { exact: true }).waitFor();
    expect(fake.control.download('dl_1')!.state).toBe('paused');

    await page.getByRole('tab', { name: 'Add' }).click();
    await page.getByRole('textbox', { name: 'File IDs' }).fill('file_report_q1');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Added 1 download.').waitFor();

    await page.getByRole('tab', { name: 'Archive' }).click();
    await page.getByRole('button', { name: /^2025-06/ }).click();
    await page.getByRole('list', { name: 'Files of 2025-06' }).getByRole('listitem').first().waitFor();
    // The desktop-only buttons are not offered in a browser.
    expect(await page.getByRole('button', { name: 'Open' }).count()).toBe(0);

    await page.getByRole('tab', { name: 'Settings' }).click();
    expect(await page.getByLabel('API key').isDisabled()).toBe(true);
    await page.getByRole('textbox', { name: 'Bandwidth cap (MB/s)' }).fill('3');
    await page.getByRole('textbox', { name: 'Bandwidth cap (MB/s)' }).press('Enter');
    await page.getByText('Saved', { exact: true }).waitFor();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it.skipIf(skipReason)(`shows the lost link, reconnects by itself and reloads what it missed${suffix}`, async () => {
    const page = await open(TOKEN);
    await page.getByRole('listitem', { name: 'broken.csv', exact: true }).waitFor();
    await server.close();
    await page.getByText('Connection to the Filehaul server lost; reconnecting…').waitFor();
    // While the page is away, a download changes; only a reload after the reconnect can show it.
    await fake.api.request('retry', { id: 'dl_4' });
    const listsBefore = requests.filter((r) => r === 'listDownloads').length;
    server = await serve();
    await page.getByText('Connection to the Filehaul server lost; reconnecting…').waitFor({ state: 'detached', timeout: 15_000 });
    await poll(() => requests.filter((r) => r === 'listDownloads').length).toBeGreaterThan(listsBefore);
    await page.getByRole('listitem', { name: 'broken.csv', exact: true }).getByText('Queued', { exact: true }).waitFor();
    await page.context().close();
  });

  it.skipIf(skipReason)(`says so when the token is wrong${suffix}`, async () => {
    const page = await open('not-the-token');
    await page.getByRole('alert').filter({ hasText: 'Not authorized' }).waitFor();
    await page.context().close();
  });
});
