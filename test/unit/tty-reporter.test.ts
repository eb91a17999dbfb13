// The terminal's live bars: names cut in the middle, a verifying file at 100%, and a finished one showing what it took.
import { describe, expect, it } from 'vitest';
import type { DownloadEvent } from '../../src/main/engine/events.ts';
import { fitName, ttyReporter } from '../../src/main/cli/reporters.ts';

const MiB = 1024 * 1024;
const URL_ID = 'http://127.0.0.1:42275/some/deep/path/of/mirrors/file1g';
const base = { downloadId: 'd1', fileId: URL_ID, timestamp: Date.now() };

/** A reporter writing into a string; `frame()` draws now and returns the rows of the last drawing. */
function terminal(columns = 100) {
  let written = '';
  const reporter = ttyReporter({ write: (text) => (written += text), isTTY: true, columns });
  return {
    reporter,
    frame(): string[] {
      written = '';
      reporter.finish();
      // Each drawing starts by moving the cursor up over the last one; the rows are what follows.
      return written.replace(/^\x1b\[\d+A\x1b\[0J/u, '').split('\n').filter(Boolean);
    },
  };
}

const progress = (bytes: number): DownloadEvent => ({
  ...base, type: 'progress', bytesDownloaded: bytes, sizeBytes: 1024 * MiB, bytesPerSecond: 80 * MiB, connections: 7, retryCount: 0, durationMs: 8000,
  segments: [], waitingUntil: null, waitReason: null, allowedConnections: null,
});

describe('ttyReporter', () => {
  it("keeps a long URL's host and file name, cutting its middle and its scheme", () => {
    const { reporter, frame } = terminal(100);
    reporter.handle({ ...base, type: 'start', filename: null, sizeBytes: null, resumedBytes: 0 });
    reporter.handle(progress(512 * MiB));
    const row = frame().at(-1)!;
    expect(row).toMatch(/^127\.0\.0\.1[^ ]*…[^ ]*\/file1g \[/u);
    expect(row.length).toBeLessThan(100);
    // All the figures still fit: the bar gave up width for the name, not the other way round.
    expect(row).toMatch(/ETA 00:06 conn 7 queued$/u);
  });

  it('shows a verifying file at 100% with no speed, though the last tick was short of the end', () => {
    const { reporter, frame } = terminal();
    reporter.handle(progress(1016 * MiB));
    reporter.handle({ ...base, type: 'state', state: 'verifying', error: null });
    const [row] = frame();
    expect(row).toContain('100% 1.00 GiB/1.00 GiB 0 B/s');
    expect(row).toMatch(/verifying$/u);
  });

  it('shows a finished file with its time and average speed instead of 0 B/s and ETA --:--', () => {
    const { reporter, frame } = terminal();
    reporter.handle(progress(1016 * MiB));
    reporter.handle({ ...base, type: 'state', state: 'done', error: null });
    reporter.handle({ ...base, type: 'done', finalPath: 'raw/2026-11/file1g', sha256: 'f'.repeat(64), sizeBytes: 1024 * MiB, bytesDownloaded: 512 * MiB, durationMs: 8000, retryCount: 0, requestCount: 20 });
    const rows = frame();
    const row = rows[rows.length - 1];
    // A resumed run: half the file fetched in 8 s is 64 MiB/s, not the 128 MiB/s the whole size would claim.
    expect(row).toContain('100% 1.00 GiB in 00:08 64.0 MiB/s avg done');
    expect(row).not.toContain('ETA');
  });
});

describe('ttyReporter columns', () => {
  it('lines up the bars of files with different names and figures', () => {
    const { reporter, frame } = terminal(120);
    reporter.handle({ ...base, downloadId: 'a', fileId: 'https://example.test/a.bin', type: 'start', filename: null, sizeBytes: null, resumedBytes: 0 });
    reporter.handle({ ...progress(3 * MiB), downloadId: 'b', fileId: 'https://downloads.example.test/releases/v1.2/tool-1.2-linux-x64.tar.gz' });
    const bars = frame().filter((line) => line.includes(' ['));
    expect(bars).toHaveLength(2);
    expect(new Set(bars.map((line) => line.indexOf(' [')))).toHaveProperty('size', 1);
    expect(bars[0].startsWith('example.test/a.bin ')).toBe(true);
  });
});

describe('fitName', () => {
  it('pads a short name and cuts a long one to exactly the width, keeping both ends', () => {
    expect(fitName('abc', 6)).toBe('abc   ');
    const cut = fitName('abcdefghijklmnopqrstuvwxyz', 11);
    expect(cut).toHaveLength(11);
    expect(cut).toBe('abcd…uvwxyz');
  });
});
