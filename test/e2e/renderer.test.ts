// Renderer end to end: the production build in Debian's chromium against the in-page fake API, time driven by __fake.tick().
// Skips (with the reason in the test names) only when /usr/bin/chromium is missing.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFakeApi, type FakeOptions } from './fake-api.ts';
import { buildRenderer, chromiumMissing, launchChromium, REPO_ROOT, serveDir } from './renderer-harness.ts';

/** vitest's expect.poll gives up after 1 s, too short on a loaded two-core CI box; the page is the slow part, not the test. */
const poll = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

const skipReason = chromiumMissing();
if (skipReason) console.warn(`[renderer e2e] skipping: ${skipReason}`);
const suffix = skipReason ? ` (skipped: ${skipReason})` : '';
const SHOTS = path.join(REPO_ROOT, 'test-results');

let browser: Browser;
let server: { url: string; close(): Promise<void> };
let outDir = '';

async function open(fake: FakeOptions = {}, context: BrowserContextOptions = {}): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', colorScheme: 'light', ...context });
  await ctx.addInitScript(installFakeApi, fake);
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // A CSP violation or a React warning is a bug even when the UI still works.
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(server.url);
  await page.getByRole('tablist').waitFor();
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

const tick = (page: Page, n = 1): Promise<void> => page.evaluate((k) => window.__fake!.tick(k), n);
/** Two frames: enough for React to commit what the last store update asked for. */
const frames = (page: Page): Promise<void> =>
  page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
const valueOf = async (bar: Locator): Promise<number> => Number(await bar.getAttribute('aria-valuenow'));
const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: path.join(SHOTS, `renderer-${name}.png`) });
const tab = (page: Page, name: string): Locator => page.getByRole('tab', { name: new RegExp(`^${name}`) });
const row = (page: Page, name: string): Locator => page.getByRole('listitem', { name, exact: true });

async function close(page: Page): Promise<void> {
  expect((page as Page & { errors: string[] }).errors).toEqual([]);
  await page.context().close();
}

describe('renderer in Chromium', () => {
  beforeAll(async () => {
    if (skipReason) return;
    await mkdir(SHOTS, { recursive: true });
    outDir = await buildRenderer();
    server = await serveDir(outDir);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it.skipIf(skipReason)(`adds ids, keeps malformed entries with inline errors, shows the engine's errors${suffix}`, async () => {
    const page = await open({ demo: false });
    expect(await page.getByTestId('demo-banner').count()).toBe(0);
    await tab(page, 'Add').click();
    const box = page.getByRole('textbox', { name: 'File IDs' });
    await box.fill('file_report_q1, not/an/id\nftp://example.com/x  file_missing_1 https://example.com/data/table.csv');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Added 2 downloads.').waitFor();
    const errors = page.getByRole('alert').filter({ hasText: 'Not added' });
    await poll(() => errors.locator('li').allInnerTexts()).toEqual([
      'not/an/id: Not a file ID (IDs contain no slashes) and not an http(s) URL.',
      'ftp://example.com/x: Only http and https URLs can be downloaded.',
      'file_missing_1: No file with this id on the account (404 not_found_error)',
    ]);
    // Only what needs fixing stays in the box; the textarea says it is invalid.
    expect(await box.inputValue()).toBe('not/an/id\nftp://example.com/x\nfile_missing_1');
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    const added = (await page.evaluate(() => window.__fake!.calls.filter((c) => c.name === 'add'))) as { args: unknown }[];
    // The loose check holds back only what is surely wrong; file_missing_1 looks fine until the engine looks it up.
    expect(added.map((c) => c.args)).toEqual([{ inputs: ['file_report_q1', 'file_missing_1', 'https://example.com/data/table.csv'] }]);
    await shot(page, 'add-1280x800');

    await page.getByRole('button', { name: 'View downloads' }).click();
    await row(page, 'report-q1.pdf').waitFor();
    await row(page, 'table.csv').waitFor();
    await close(page);
  });

  it.skipIf(skipReason)(`moves file and segment bars with ticks; Pause holds the bytes, Resume continues, the file lands in its month${suffix}`, async () => {
    const page = await open({ demo: true });
    await page.getByTestId('demo-banner').waitFor();
    const r = row(page, 'training-data.jsonl');
    const bar = r.getByRole('progressbar', { name: 'Progress' });
    await r.waitFor();
    const start = await valueOf(bar);
    await tick(page, 2);
    await poll(() => valueOf(bar)).toBeGreaterThan(start);
    expect(await bar.getAttribute('aria-valuemax')).toBe('3000000');

    // The other seeded rows: a rate-limit wait with its clock time, a failure with its reason, a paused file.
    await poll(() => row(page, 'big-archive.tar').innerText()).toMatch(/Waiting for rate limit until \d\d:\d\d:\d\d/);
    expect(await row(page, 'broken.csv').innerText()).toContain('Failed: HTTP 500 from api.anthropic.com after 5 retries');
    expect(await row(page, 'broken.csv').innerText()).toContain('5 retries');
    await row(page, 'broken.csv').getByRole('button', { name: 'Retry', exact: true }).waitFor();
    await row(page, 'paused.iso').getByRole('button', { name: 'Resume', exact: true }).waitFor();

    await r.getByRole('button', { name: 'Show segments of training-data.jsonl' }).click();
    const segments = r.getByRole('progressbar', { name: /^Segment \d+ of \d+$/ });
    await poll(() => segments.count()).toBeGreaterThanOrEqual(2);
    const seg1 = r.getByRole('progressbar', { name: /^Segment 1 of/ });
    const segStart = await valueOf(seg1);
    await tick(page);
    await poll(() => valueOf(seg1)).toBeGreaterThan(segStart);
    await poll(() => r.innerText()).toMatch(/\d connections/);
    await shot(page, 'downloads-1280x800');

    await r.getByRole('button', { name: 'Pause', exact: true }).click();
    await r.getByText('Paused', { exact: true }).waitFor();
    const held = await valueOf(bar);
    const heldBytes = await page.evaluate(() => window.__fake!.download('dl_1')!.bytesDownloaded);
    await tick(page, 5);
    await frames(page);
    expect(await valueOf(bar)).toBe(held);
    expect(await page.evaluate(() => window.__fake!.download('dl_1')!.bytesDownloaded)).toBe(heldBytes);
    expect(heldBytes).toBe(held);

    await r.getByRole('button', { name: 'Resume', exact: true }).click();
    await r.getByText('Queued', { exact: true }).waitFor();
    await tick(page, 2);
    await poll(() => valueOf(bar)).toBeGreaterThan(held);

    await tick(page, 40);
    await r.getByText('Done', { exact: true }).waitFor();
    expect(await valueOf(bar)).toBe(3_000_000);
    expect(await r.getByRole('button', { name: 'Pause', exact: true }).count()).toBe(0);

    await tab(page, 'Archive').click();
    const may = page.getByRole('button', { name: /^2025-05/ });
    await may.click();
    await row(page, 'training-data.jsonl').waitFor();
    // The fixture archive already holds one file of 2025-05.
    await poll(() => may.innerText()).toContain('2 files');
    await close(page);
  });

  it.skipIf(skipReason)(`Settings: the bandwidth cap goes to setSettings at once; the language switch relabels the UI${suffix}`, async () => {
    const page = await open();
    await tab(page, 'Settings').click();
    expect(await page.getByTestId('key-status').innerText()).toBe('Status: set');
    const cap = page.getByRole('textbox', { name: 'Bandwidth cap (MB/s)' });
    await cap.fill('2.5');
    await cap.press('Enter');
    await page.getByText('Saved', { exact: true }).waitFor();
    const sets = await page.evaluate(() => window.__fake!.calls.filter((c) => c.name === 'setSettings').map((c) => c.args));
    expect(sets).toEqual([{ limitRate: 2_500_000 }]);
    // A bad value is refused inline, without a request.
    await cap.fill('fast');
    await cap.press('Enter');
    await page.getByText('Enter a positive number, or leave empty for unlimited.').waitFor();
    expect(await cap.getAttribute('aria-invalid')).toBe('true');
    await cap.press('Escape');
    await shot(page, 'settings-1280x800');

    await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
    await tab(page, '下载').waitFor();
    await page.getByRole('heading', { name: '设置' }).waitFor();
    // The Downloads tab also carries its live count of active + queued downloads.
    expect((await page.getByRole('tab').allInnerTexts()).map((t) => t.replace(/\d+$/, ''))).toEqual(['下载', '添加', '远程文件', '归档', '设置']);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await shot(page, 'settings-zh-CN-1280x800');
    await tab(page, '下载').click();
    await poll(() => row(page, 'broken.csv').innerText()).toContain('失败：HTTP 500');
    await close(page);
  });

  it.skipIf(skipReason)(`follows a Chinese OS language and formats sizes for it${suffix}`, async () => {
    const page = await open({}, { locale: 'zh-CN' });
    await tab(page, '下载').waitFor();
    await row(page, 'paused.iso').getByRole('button', { name: '继续', exact: true }).waitFor();
    expect(await row(page, 'paused.iso').innerText()).toContain('已暂停');
    await close(page);
  });

  it.skipIf(skipReason)(`Remote files: archived files are marked; selecting rows queues them with "Download selected"${suffix}`, async () => {
    const page = await open();
    await tab(page, 'Remote files').click();
    await row(page, 'report-0.pdf').getByText('In archive').waitFor();
    expect(await row(page, 'model-output-6.jsonl').getByText('In archive').count()).toBe(0);
    await row(page, 'log-8.log').click();
    await row(page, 'notes-3.md').click();
    await shot(page, 'remote-1280x800');
    await page.getByRole('button', { name: 'Download selected (2)' }).click();
    await page.getByText('Queued 2 files.').waitFor();
    expect(await page.getByRole('button', { name: 'Download selected (0)' }).isDisabled()).toBe(true);
    const adds = await page.evaluate(() => window.__fake!.calls.filter((c) => c.name === 'add').map((c) => c.args));
    expect(adds).toEqual([{ inputs: ['file_008', 'file_003'] }]);
    await tab(page, 'Downloads').click();
    await row(page, 'notes-3.md').waitFor();
    await close(page);
  });

  it.skipIf(skipReason)(`Archive: a 100,000-file month stays windowed, pages as it scrolls, searches, verifies, opens${suffix}`, async () => {
    const page = await open({ bigMonthRows: 100_000 });
    await tab(page, 'Archive').click();
    const months = page.getByRole('navigation', { name: 'Months' }).getByRole('button');
    // Newest first.
    const labels = (await months.allInnerTexts()).map((t) => t.slice(0, 7));
    expect(labels).toEqual([...labels].sort().reverse());
    await page.getByRole('button', { name: /^2024-01/ }).click();
    const list = page.getByRole('list', { name: 'Files of 2024-01' });
    await row(page, 'sample-000001.bin').waitFor();
    await page.getByText('100,000 files', { exact: true }).waitFor();
    expect(await list.getByRole('listitem').count()).toBeLessThan(60);
    await list.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await row(page, 'sample-100000.bin').waitFor();
    expect(await list.getByRole('listitem').count()).toBeLessThan(60);
    const pages = await page.evaluate(() => window.__fake!.calls.filter((c) => c.name === 'archiveFiles').map((c) => (c.args as { offset: number }).offset));
    expect(pages).toContain(99_800);
    expect(pages.length).toBeLessThan(10);

    await row(page, 'sample-100000.bin').getByRole('button', { name: 'Show in folder' }).click();
    await row(page, 'sample-099999.bin').getByRole('button', { name: 'Open' }).click();
    expect(await page.evaluate(() => window.__fake!.opened)).toEqual(['show:raw/2024-01/sample-100000.bin', 'open:raw/2024-01/sample-099999.bin']);

    await page.getByRole('button', { name: 'Verify month' }).click();
    await page.getByTestId('verify-report').getByText('All 100,000 files match their checksums.').waitFor();

    await page.getByRole('searchbox', { name: 'Search by name' }).fill('sample-04242');
    await page.getByText('10 matches', { exact: true }).waitFor();
    await row(page, 'sample-042420.bin').waitFor();
    await shot(page, 'archive-1280x800');
    await close(page);
  });

  it.skipIf(skipReason)(`the web door: the API key is the server's business, no desktop-only buttons${suffix}`, async () => {
    const page = await open({ door: 'web', desktopActions: false });
    await tab(page, 'Settings').click();
    expect(await page.getByLabel('API key').isDisabled()).toBe(true);
    await page.getByText('In the browser the server reads the key from ANTHROPIC_API_KEY').waitFor();
    await tab(page, 'Archive').click();
    await page.getByRole('button', { name: /^2025-06/ }).click();
    await page.getByRole('list', { name: 'Files of 2025-06' }).getByRole('listitem').first().waitFor();
    expect(await page.getByRole('button', { name: 'Open' }).count()).toBe(0);
    await close(page);
  });

  it.skipIf(skipReason)(`is readable at 800x600 and in dark mode, and the tabs work from the keyboard${suffix}`, async () => {
    const page = await open({ demo: true }, { viewport: { width: 800, height: 600 } });
    const r = row(page, 'training-data.jsonl');
    await tick(page, 3);
    await r.getByRole('button', { name: /^Show segments/ }).click();
    await tick(page);
    await r.getByRole('progressbar', { name: /^Segment 1 of/ }).waitFor();
    // Every row's buttons stay inside the window at the minimum size.
    const box = await r.getByRole('button', { name: 'Cancel', exact: true }).boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(800);
    await shot(page, 'downloads-800x600');

    await tab(page, 'Downloads').focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Add');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('TEXTAREA');
    await page.keyboard.type('file_kbd');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Added 1 download.').waitFor();

    await page.emulateMedia({ colorScheme: 'dark' });
    await tab(page, 'Downloads').click();
    await shot(page, 'downloads-dark-800x600');
    await close(page);
  });
});
