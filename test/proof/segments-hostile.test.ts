// The segment planner under totals a lying server can announce, and split layouts through a real SQLite catalog (what test/unit lacks).
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { DownloadRecord } from '../../src/shared/model.ts';
import { coversExactly, largestRemaining, planSegments, segmentCount, splitPoint, type PlannedRange } from '../../src/main/engine/segments.ts';
import { closeCatalog, insertDownload, loadSegments, openCatalog, saveSegments } from '../../src/main/store/index.ts';
import { tempDir } from './proof-helpers.ts';

const RUNS = { numRuns: 400, seed: 424242 };

describe('segment planner, hostile totals', () => {
  it('plans exact, ordered, non-empty ranges for any total up to 2^53 - 1 (a Content-Range total is the server’s word)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.nat({ max: 2 ** 20 }), fc.integer({ min: 2 ** 40, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 2 ** 52 + 1, 1, 4095, 4097)),
        fc.integer({ min: 1, max: 32 }),
        fc.integer({ min: 1, max: 2 ** 45 }),
        (total, connections, minSplit) => {
          const count = segmentCount(total, connections, minSplit);
          expect(count).toBeGreaterThanOrEqual(1);
          expect(count).toBeLessThanOrEqual(connections);
          const ranges = planSegments(total, count);
          expect(coversExactly(ranges, total)).toBe(true);
          for (const [index, range] of ranges.entries()) {
            expect(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end)).toBe(true);
            if (total > 0) expect(range.end).toBeGreaterThan(range.start);
            if (index > 0) expect(range.start).toBe(ranges[index - 1].end);
          }
        },
      ),
      RUNS,
    );
  });

  it('never splits at or below bytes already promised to a write, whatever the offsets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 }), fc.integer({ min: 1, max: 2 ** 50 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 2 ** 40 }), (start, length, progress, minSplit) => {
        const end = Math.min(Number.MAX_SAFE_INTEGER, start + length);
        const offset = start + Math.floor((end - start) * progress);
        const middle = splitPoint({ start, end, offset }, minSplit);
        if (middle === null) return;
        expect(Number.isSafeInteger(middle)).toBe(true);
        expect(middle).toBeGreaterThan(offset);
        expect(middle).toBeLessThan(end);
        expect(middle - offset).toBeGreaterThanOrEqual(minSplit);
        expect(end - middle).toBeGreaterThanOrEqual(minSplit);
      }),
      RUNS,
    );
  });
});

describe('split layouts through the catalog', () => {
  const temp = tempDir('filehaul-segments-');
  const db = openCatalog(path.join(temp.dir, 'filehaul.db'));
  afterAll(() => {
    closeCatalog(db);
    temp.remove();
  });
  let n = 0;

  it('any plan, splits and confirmed offsets survive a save and a load exactly, and still cover the file', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: 32 }),
        fc.integer({ min: 4096, max: 2 ** 30 }),
        fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 30 }),
        (total, connections, minSplit, steps) => {
          const ranges: PlannedRange[] = planSegments(total, segmentCount(total, connections, minSplit));
          for (const [pick, progress] of steps) {
            const range = ranges[pick % ranges.length];
            range.offset += Math.floor((range.end - range.offset) * progress);
            const victimIndex = largestRemaining(ranges);
            const victim = victimIndex < 0 ? null : ranges[victimIndex];
            const middle = victim ? splitPoint(victim, minSplit) : null;
            if (!victim || middle === null) continue;
            ranges.splice(victimIndex + 1, 0, { start: middle, end: victim.end, offset: middle });
            victim.end = middle;
          }
          const id = `dl_seg${n++}`;
          insertDownload(db, { id, sourceKind: 'url', sourceRef: `https://x.test/${id}`, apiBase: null, filename: null, mimeType: null, sizeBytes: total, createdAt: null, etag: null, lastModified: null, rangeSupported: true, state: 'downloading', error: null, addedAt: new Date().toISOString(), updatedAt: new Date().toISOString(), completedAt: null, finalPath: null, sha256: null, restartCount: 0 } satisfies DownloadRecord);
          const saved = ranges.map((range) => ({ start: range.start, end: range.end, confirmedOffset: range.offset }));
          saveSegments(db, id, saved);
          const loaded = loadSegments(db, id);
          // SQLite INTEGER is 64-bit: every offset comes back exactly, in start order, as the resume will read it.
          expect(loaded).toEqual([...saved].sort((a, b) => a.start - b.start));
          expect(coversExactly(loaded, total)).toBe(true);
          for (const segment of loaded) expect(segment.confirmedOffset >= segment.start && segment.confirmedOffset <= segment.end).toBe(true);
        },
      ),
      { ...RUNS, numRuns: 200 },
    );
  });
});
