// Set-up for the serve-flow e2e test: fake Files API + real controller (engine, catalog, archive) + startServer + Chromium.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { createController, type Controller } from '../../src/main/controller.ts';
import { startServer, type RunningServer } from '../../src/main/server/http-server.ts';
import { DEFAULT_SERVICE_OPTIONS } from '../../src/main/service.ts';
import { makeBytes, startOrigin, type Origin, type OriginFile } from '../fixtures/files-api-origin.ts';
import { buildRenderer, launchChromium } from './renderer-harness.ts';

export const MiB = 1024 * 1024;
export const API_KEY = 'sk-ant-test-serve-flow-key';
export const TOKEN = 'serve-flow_token_0123456789abcdefghijklmnopqrs';

/** 12 MiB in 2025-03: at 1 MiB/s per connection and 2 connections it takes ~6 s, long enough to watch, pause and resume. */
export const BIG: OriginFile = { id: 'file_big', filename: 'big-dataset.bin', bytes: makeBytes(12 * MiB, 7), createdAt: '2025-03-14T09:26:53Z' };
/** A small file in another (older) month, so the Archive has two months to order. */
export const SMALL: OriginFile = { id: 'file_small', filename: 'notes.txt', bytes: makeBytes(64 * 1024, 8), createdAt: '2024-11-02T12:00:00Z' };

export interface ServeStack {
  origin: Origin;
  controller: Controller;
  server: RunningServer;
  browser: Browser;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Everything `filehaul serve` wires together (see src/main/cli/serve.ts, runServeWith), in-process so the test can
 * watch the origin's request log: the real controller over a temp data dir, the real HTTP/WebSocket door with the
 * renderer build, and a browser. Whatever started is closed again if a later step fails.
 */
export async function startServeStack(): Promise<ServeStack> {
  const opened: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const step of opened.reverse()) await step().catch(() => {});
  };
  try {
    const outDir = await buildRenderer();
    opened.push(() => rm(outDir, { recursive: true, force: true }));
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'filehaul-serve-flow-'));
    opened.push(() => rm(dataDir, { recursive: true, force: true }));
    const origin = await startOrigin({ apiKey: API_KEY, bytesPerSecondPerConnection: 1 * MiB, files: [BIG, SMALL] });
    opened.push(() => origin.close());
    const controller = await createController({
      ...DEFAULT_SERVICE_OPTIONS,
      dataDir,
      apiBase: origin.url,
      apiKey: API_KEY,
      backupApiBase: null,
      // Only loopback traffic: never route it through a proxy from the environment.
      proxy: null,
      connectTimeoutMs: 5_000,
      readTimeoutMs: 10_000,
      // The request budget and cool-down are tested elsewhere; here they must stay out of the way.
      requestsPerMinute: 600_000,
      cooldown: { initialMs: 20, maxMs: 100 },
      engine: {
        ...DEFAULT_SERVICE_OPTIONS.engine,
        connections: 2,
        backoff: { baseMs: 5, capMs: 50, maxRetries: 5 },
        confirmIntervalMs: 100,
        progressIntervalMs: 100,
      },
      demo: false,
    });
    opened.push(() => controller.close());
    const server = await startServer({ port: 0, handler: controller, staticDir: outDir, token: TOKEN });
    opened.push(() => server.close());
    const browser = await launchChromium();
    opened.push(() => browser.close());
    return { origin, controller, server, browser, dataDir, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export const valueOf = async (bar: Locator): Promise<number> => Number(await bar.getAttribute('aria-valuenow'));

/**
 * Resolves once every content request for fileId has ended (socket closed or body finished). Event driven: the
 * origin re-checks waiters whenever an entry changes, including when it ends.
 */
export async function originQuiet(origin: Origin, fileId: string): Promise<void> {
  for (const entry of origin.contentRequests(fileId)) await origin.waitForRequest((e) => e === entry && e.endedAt !== undefined);
}

/**
 * Confirms nothing moves for `ms`: no body byte and no new request for fileId at the origin, and no aria-valuenow change
 * inside `scope` in the page (a MutationObserver catches any change in the window, not only a difference of the ends).
 * This is the one place the test lets time pass on purpose: stillness can only be shown over an interval, so the
 * window is bounded and short. Resolves with what moved, or null.
 */
export async function movementWithin(ms: number, origin: Origin, fileId: string, page: Page, scope: Locator): Promise<string | null> {
  const known = new Set(origin.requests);
  const sent = origin.contentRequests(fileId).reduce((sum, e) => sum + e.bytesSent, 0);
  let timer: NodeJS.Timeout | undefined;
  const originSide = Promise.race([
    origin.waitForBytesSent(fileId, sent + 1).then(() => `the origin sent more bytes of ${fileId}`),
    origin.waitForRequest((e) => e.fileId === fileId && !known.has(e)).then((e) => `a new request reached the origin: ${e.method} ${e.path} ${e.range ?? ''}`),
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    }),
  ]);
  const handle = await scope.elementHandle();
  const pageSide = page.evaluate(
    ({ root, ms }) =>
      new Promise<string | null>((resolve) => {
        const observer = new MutationObserver((records) => {
          for (const r of records) {
            const el = r.target as Element;
            if (r.type === 'attributes' && el.getAttribute('aria-valuenow') !== r.oldValue) {
              observer.disconnect();
              resolve(`${el.getAttribute('aria-label')} moved from ${r.oldValue} to ${el.getAttribute('aria-valuenow')}`);
              return;
            }
          }
        });
        observer.observe(root!, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'], attributeOldValue: true });
        setTimeout(() => {
          observer.disconnect();
          resolve(null);
        }, ms);
      }),
    { root: handle, ms },
  );
  const [fromOrigin, fromPage] = await Promise.all([originSide, pageSide]);
  clearTimeout(timer);
  await handle?.dispose();
  return fromOrigin ?? fromPage;
}
