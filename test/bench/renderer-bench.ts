// Renderer benchmark: 1,000 active downloads updated at 10 Hz for 5 s in Chromium; also run by `npm run bench`.
// Reports main-thread busy time per second (CDP TaskDuration), long tasks, frame gaps, and how fast a row's Pause answers.
// Run: node test/bench/renderer-bench.ts [--downloads N] [--hz N] [--seconds N]
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installFakeApi } from '../e2e/fake-api.ts';
import { buildRenderer, chromiumMissing, launchChromium, REPO_ROOT, serveDir } from '../e2e/renderer-harness.ts';

export { chromiumMissing };

export interface RendererBenchOptions {
  /** Active downloads in the list; default 1,000. */
  downloads?: number;
  /** Progress batches a second; default 10. */
  hz?: number;
  /** How long the batches run; default 5 s. */
  seconds?: number;
}

export interface RendererBenchResult {
  downloads: number;
  hz: number;
  seconds: number;
  ticks: number;
  domRows: number;
  idleBusyMsPerS: number;
  busyMsPerS: number;
  scriptMsPerS: number;
  layoutMsPerS: number;
  styleMsPerS: number;
  fakeGenerateMsPerS: number;
  storeMergeMsPerS: number;
  longTasks: number;
  longTaskMs: number;
  frameGapP50Ms: number;
  frameGapP95Ms: number;
  frameGapMaxMs: number;
  frameGapsOver50ms: number;
  pauseClickToPaintMs: number;
  pauseRoundTripMs: number;
}

interface PageStats {
  longTasks: number;
  longTaskMs: number;
  frames: number;
  frameP50: number;
  frameP95: number;
  frameMax: number;
  gapsOver50ms: number;
}

/** Builds the renderer, serves it, and measures it in Debian's Chromium (throws when /usr/bin/chromium is missing). */
export async function runRendererBench(options: RendererBenchOptions = {}): Promise<RendererBenchResult> {
  const downloads = options.downloads ?? 1000;
  const hz = options.hz ?? 10;
  const seconds = options.seconds ?? 5;
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);

  const outDir = await buildRenderer();
  const server = await serveDir(outDir);
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    await context.addInitScript(installFakeApi, { seed: false, active: downloads });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByRole('listitem', { name: 'bench-0999.bin', exact: true }).waitFor();
    // Segment bars moving live in a few expanded rows, as a user watching them would have.
    for (const name of ['bench-0999.bin', 'bench-0998.bin']) {
      await page.getByRole('button', { name: `Show segments of ${name}` }).click();
    }

    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
    const metrics = async (): Promise<Record<string, number>> => {
      const { metrics: list } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
      return Object.fromEntries(list.map((m) => [m.name, m.value]));
    };

    // Observers in the page: long tasks (>50 ms) and the gap between consecutive animation frames.
    await page.evaluate(() => {
      const w = window as unknown as { __bench: { long: number[]; frames: number[]; stop: boolean } };
      w.__bench = { long: [], frames: [], stop: false };
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__bench.long.push(e.duration);
      }).observe({ type: 'longtask' });
      let last = performance.now();
      const frame = (now: number): void => {
        w.__bench.frames.push(now - last);
        last = now;
        if (!w.__bench.stop) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });

    const idleStart = await metrics();
    await page.waitForTimeout(1000);
    const idleEnd = await metrics();

    const before = await metrics();
    const wallStart = performance.now();
    await page.evaluate((hz) => {
      (window as unknown as { __stopRun: () => void }).__stopRun = window.__fake!.run(hz);
    }, hz);

    // Halfway through, press a row's Pause and time it in the page: from the click event to the frame that shows "Paused".
    await page.waitForTimeout((seconds * 1000) / 2);
    const target = page.getByRole('listitem', { name: 'bench-0997.bin', exact: true });
    const armed = page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const row = document.querySelector('[aria-label="bench-0997.bin"]')!;
          let clickedAt = 0;
          document.addEventListener('click', (e) => (clickedAt = e.timeStamp), { capture: true, once: true });
          const mo = new MutationObserver(() => {
            if (row.querySelector('.dl-state')?.textContent === 'Paused') {
              mo.disconnect();
              requestAnimationFrame((painted) => resolve(painted - clickedAt));
            }
          });
          mo.observe(row, { subtree: true, characterData: true, childList: true });
        }),
    );
    const clickStart = performance.now();
    await target.getByRole('button', { name: 'Pause', exact: true }).click();
    await target.getByText('Paused', { exact: true }).waitFor();
    const roundTripMs = performance.now() - clickStart;
    const inPageMs = await armed;

    const remaining = seconds * 1000 - (performance.now() - wallStart);
    if (remaining > 0) await page.waitForTimeout(remaining);
    await page.evaluate(() => (window as unknown as { __stopRun: () => void }).__stopRun());
    const wallS = (performance.now() - wallStart) / 1000;
    const after = await metrics();

    const stats: PageStats & { cost: { generateMs: number; deliverMs: number; ticks: number } } = await page.evaluate(() => {
      const w = window as unknown as { __bench: { long: number[]; frames: number[]; stop: boolean } };
      w.__bench.stop = true;
      const f = [...w.__bench.frames].sort((a, b) => a - b);
      const q = (p: number): number => f[Math.min(f.length - 1, Math.floor(p * f.length))] ?? 0;
      return {
        longTasks: w.__bench.long.length,
        longTaskMs: w.__bench.long.reduce((a, b) => a + b, 0),
        frames: f.length,
        frameP50: q(0.5),
        frameP95: q(0.95),
        frameMax: f[f.length - 1] ?? 0,
        gapsOver50ms: f.filter((x) => x > 50).length,
        cost: { ...window.__fake!.cost },
      };
    });
    const domRows = await page.locator('[role="listitem"]').count();

    const busy = (a: Record<string, number>, b: Record<string, number>, key: string): number => (b[key] - a[key]) * 1000;
    const idleWall = idleEnd.Timestamp - idleStart.Timestamp;
    const result: RendererBenchResult = {
      downloads,
      hz,
      seconds: Number(wallS.toFixed(2)),
      ticks: stats.cost.ticks,
      domRows,
      idleBusyMsPerS: Number((busy(idleStart, idleEnd, 'TaskDuration') / idleWall).toFixed(1)),
      busyMsPerS: Number((busy(before, after, 'TaskDuration') / wallS).toFixed(1)),
      scriptMsPerS: Number((busy(before, after, 'ScriptDuration') / wallS).toFixed(1)),
      layoutMsPerS: Number((busy(before, after, 'LayoutDuration') / wallS).toFixed(1)),
      styleMsPerS: Number((busy(before, after, 'RecalcStyleDuration') / wallS).toFixed(1)),
      fakeGenerateMsPerS: Number((stats.cost.generateMs / wallS).toFixed(1)),
      storeMergeMsPerS: Number((stats.cost.deliverMs / wallS).toFixed(1)),
      longTasks: stats.longTasks,
      longTaskMs: Math.round(stats.longTaskMs),
      frameGapP50Ms: Number(stats.frameP50.toFixed(1)),
      frameGapP95Ms: Number(stats.frameP95.toFixed(1)),
      frameGapMaxMs: Number(stats.frameMax.toFixed(1)),
      frameGapsOver50ms: stats.gapsOver50ms,
      pauseClickToPaintMs: Number(inPageMs.toFixed(1)),
      pauseRoundTripMs: Math.round(roundTripMs),
    };

    return result;
  } finally {
    await browser.close();
    await server.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

function print(result: RendererBenchResult): void {
  console.log(`renderer-bench: ${result.downloads} active downloads, progress batches at ${result.hz} Hz for ${result.seconds} s (${result.ticks} batches)`);
  console.log(`  main thread busy: ${result.busyMsPerS} ms per second (idle baseline ${result.idleBusyMsPerS} ms/s)`);
  console.log(`    script ${result.scriptMsPerS}, style ${result.styleMsPerS}, layout ${result.layoutMsPerS} ms/s`);
  console.log(`    of which the fake's own batch building ${result.fakeGenerateMsPerS} ms/s; store merge of the batches ${result.storeMergeMsPerS} ms/s`);
  console.log(`  long tasks (>50 ms): ${result.longTasks} (${result.longTaskMs} ms total)`);
  console.log(`  frame gaps: p50 ${result.frameGapP50Ms} ms, p95 ${result.frameGapP95Ms} ms, max ${result.frameGapMaxMs} ms, ${result.frameGapsOver50ms} over 50 ms`);
  console.log(`  rows in the DOM: ${result.domRows} of ${result.downloads}`);
  console.log(`  Pause on a row: ${result.pauseClickToPaintMs} ms from click to painted "Paused" (${result.pauseRoundTripMs} ms including Playwright round trips)`);
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const missing = chromiumMissing();
  if (missing) {
    console.error(`renderer-bench: ${missing}`);
    process.exit(2);
  }
  const result = await runRendererBench({ downloads: arg('downloads', 1000), hz: arg('hz', 10), seconds: arg('seconds', 5) });
  print(result);
  const dir = path.join(REPO_ROOT, 'test-results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'renderer-bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`  written to ${path.relative(REPO_ROOT, path.join(dir, 'renderer-bench.json'))}`);
}
