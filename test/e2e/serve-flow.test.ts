// End to end through the web door: Chromium → startServer → the real controller and engine → the fake Files API, then the archive.
// Add ids, watch file and segment bars move, pause (bytes stand still), resume, done, filed under its month; bad ids and a missing token refused.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, REPO_ROOT } from './renderer-harness.ts';
import { BIG, movementWithin, originQuiet, SMALL, startServeStack, TOKEN, valueOf, type ServeStack } from './serve-flow-harness.ts';

const skipReason = chromiumMissing();
if (skipReason) console.warn(`[serve-flow e2e] skipping: ${skipReason}`);
const suffix = skipReason ? ` (skipped: ${skipReason})` : '';
const SHOTS = path.join(REPO_ROOT, 'test-results');
/** Long enough to see a throttled origin move several times over, short enough to keep the test quick. */
const STILL_WINDOW_MS = 800;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

let stack: ServeStack;

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `serve-${name}.png`) });
const tab = (page: Page, name: string) => page.getByRole('tab', { name: new RegExp(`^${name}`) });

describe('filehaul serve end to end', () => {
  beforeAll(async () => {
    if (skipReason) return;
    await mkdir(SHOTS, { recursive: true });
    stack = await startServeStack();
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it.skipIf(skipReason)(`downloads, pauses, resumes and archives through the browser; refuses bad ids and missing tokens${suffix}`, async () => {
    const { origin, server, browser, dataDir } = stack;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', colorScheme: 'light' });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    // Every add the page sends, to show which entries left the browser at all.
    const addBodies: string[] = [];
    page.on('request', (r) => new URL(r.url()).pathname === '/api/rpc/add' && addBodies.push(r.postData() ?? ''));

    await page.goto(`${server.url}/#token=${TOKEN}`);
    await page.getByRole('tablist').waitFor();

    // --- Add: both ids in one go.
    await tab(page, 'Add').click();
    await page.getByRole('textbox', { name: 'File IDs' }).fill(`${BIG.id}\n${SMALL.id}`);
    await shot(page, 'add');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Added 2 downloads.' }).waitFor();

    // --- Downloads: the row appears and its bar rises.
    await tab(page, 'Downloads').click();
    const row = page.getByRole('listitem', { name: BIG.filename, exact: true });
    const bar = row.getByRole('progressbar', { name: 'Progress', exact: true });
    await bar.waitFor();
    expect(await bar.getAttribute('aria-valuemax')).toBe(String(BIG.bytes.length));
    await expect.poll(() => valueOf(bar), { timeout: 15_000 }).toBeGreaterThan(0);
    const early = await valueOf(bar);
    await expect.poll(() => valueOf(bar), { timeout: 15_000 }).toBeGreaterThan(early);

    // Expanded: one bar per segment, at least two of them, and at least two of them advancing.
    await row.getByRole('button', { name: `Show segments of ${BIG.filename}` }).click();
    const segmentBars = row.getByRole('progressbar', { name: /^Segment \d+ of \d+$/ });
    await expect.poll(() => segmentBars.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    // Keyed by the range shown next to each bar: a split renames "Segment n of m" but a range identifies its segment.
    await page.waitForFunction(
      (rowEl) => {
        const read = () => new Map([...rowEl!.querySelectorAll('li.segment')].map((li) => [li.querySelector('.segment-range')!.textContent!, Number(li.querySelector('[role=progressbar]')!.getAttribute('aria-valuenow'))]));
        const w = window as unknown as { __segStart?: Map<string, number> };
        w.__segStart ??= read();
        const now = read();
        let moved = 0;
        for (const [range, value] of now) if (w.__segStart.has(range) && value > w.__segStart.get(range)!) moved++;
        return moved >= 2;
      },
      await row.elementHandle(),
      { timeout: 15_000, polling: 'raf' },
    );
    await shot(page, 'downloads');

    // --- Pause: the row says so, the origin goes quiet, then nothing moves for a short, bounded window.
    await row.getByRole('button', { name: 'Pause', exact: true }).click();
    await row.getByText('Paused', { exact: true }).waitFor();
    await originQuiet(origin, BIG.id);
    const pausedAt = await valueOf(bar);
    const pausedSent = origin.contentRequests(BIG.id).reduce((sum, e) => sum + e.bytesSent, 0);
    expect(pausedAt).toBeGreaterThan(0);
    expect(pausedAt).toBeLessThan(BIG.bytes.length);
    expect(await movementWithin(STILL_WINDOW_MS, origin, BIG.id, page, row)).toBeNull();
    expect(await valueOf(bar)).toBe(pausedAt);
    expect(origin.contentRequests(BIG.id).reduce((sum, e) => sum + e.bytesSent, 0)).toBe(pausedSent);

    // --- Resume: it goes on from where it stood (no request starts over at byte 0) and completes.
    const beforeResume = new Set(origin.requests);
    await row.getByRole('button', { name: 'Resume', exact: true }).click();
    await expect.poll(() => valueOf(bar), { timeout: 15_000 }).toBeGreaterThan(pausedAt);
    await row.getByText('Done', { exact: true }).waitFor({ timeout: 20_000 });
    expect(await valueOf(bar)).toBe(BIG.bytes.length);
    const resumed = origin.contentRequests(BIG.id).filter((e) => !beforeResume.has(e));
    expect(resumed.length).toBeGreaterThan(0);
    for (const e of resumed) expect(e.range, 'a resumed request must not start over').not.toMatch(/^bytes=0-/);
    // Bytes fetched twice are at most what was in flight at the pause, far from a second full copy.
    expect(origin.contentRequests(BIG.id).reduce((sum, e) => sum + e.bytesSent, 0)).toBeLessThan(BIG.bytes.length * 1.25);
    const archived = await readFile(path.join(dataDir, 'raw', '2025-03', BIG.filename));
    expect(sha256(archived)).toBe(sha256(BIG.bytes));
    await page.getByRole('listitem', { name: SMALL.filename, exact: true }).getByText('Done', { exact: true }).waitFor();

    // --- Archive: months newest first, 2025-03 holds the file.
    await tab(page, 'Archive').click();
    const months = page.getByRole('navigation', { name: 'Months' }).getByRole('button');
    await expect.poll(async () => (await months.allTextContents()).map((text) => text.slice(0, 7)), { timeout: 15_000 }).toEqual(['2025-03', '2024-11']);
    await page.getByRole('button', { name: /^2025-03/ }).click();
    await page.getByRole('list', { name: 'Files of 2025-03' }).getByRole('listitem', { name: BIG.filename, exact: true }).waitFor();
    await shot(page, 'archive');

    // --- Remote files: the account's files, the downloaded ones marked as archived.
    await tab(page, 'Remote files').click();
    await page.getByRole('listitem', { name: BIG.filename, exact: true }).getByText('In archive', { exact: true }).waitFor();
    await shot(page, 'remote');

    // --- Settings: the web door shows where the data lives and cannot change the key.
    await tab(page, 'Settings').click();
    await page.getByText(dataDir, { exact: true }).waitFor();
    expect(await page.getByLabel('API key').isDisabled()).toBe(true);
    await shot(page, 'settings');

    // --- Malformed ids: inline errors, and nothing reaches the origin. "bad/id" is stopped in the page; "bad%id"
    // passes the page's loose check and is refused by the engine before any request.
    const originRequests = origin.requests.length;
    const addCount = addBodies.length;
    await tab(page, 'Add').click();
    await page.getByRole('textbox', { name: 'File IDs' }).fill('bad/id\nbad%id');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const errors = page.getByRole('alert').filter({ hasText: 'Not added' });
    await errors.getByRole('listitem').filter({ hasText: 'bad/id' }).filter({ hasText: 'IDs contain no slashes' }).waitFor();
    await errors.getByRole('listitem').filter({ hasText: 'bad%id' }).filter({ hasText: 'is not a file id' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'File IDs' }).inputValue()).toBe('bad/id\nbad%id');
    await shot(page, 'add-errors');
    expect(origin.requests.length).toBe(originRequests);
    const sent = addBodies.slice(addCount);
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0])).toEqual({ inputs: ['bad%id'] });
    // Nothing so far may have logged an error in the page (the refused requests below will, by design).
    expect(consoleErrors).toEqual([]);

    // --- No token, no entry: from Node, from the page itself (same origin, no header), and on the event socket.
    expect((await fetch(`${server.url}/api/downloads`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/downloads`, { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(401);
    expect(await page.evaluate(async () => (await fetch('/api/downloads')).status)).toBe(401);
    expect(
      await page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(new URL('/api/events', location.href.replace(/^http/, 'ws')));
            ws.onopen = () => resolve('open');
            ws.onclose = () => resolve('refused');
          }),
      ),
    ).toBe('refused');
    // The same route with the token: the two downloads, done.
    const listed = await fetch(`${server.url}/api/downloads`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(listed.status).toBe(200);
    const list = (await listed.json()) as { filename: string; state: string }[];
    expect(list.map((d) => [d.filename, d.state]).sort()).toEqual([
      [BIG.filename, 'done'],
      [SMALL.filename, 'done'],
    ]);
    await context.close();
  });
});
