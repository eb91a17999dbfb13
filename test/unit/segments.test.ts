// Segment planning: ranges always cover the file exactly, never overlap, and splits respect the minimum size.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { coversExactly, largestRemaining, planSegments, remaining, segmentCount, splitPoint, type PlannedRange } from '../../src/main/engine/segments.ts';

const MiB = 1024 * 1024;

describe('segment planning', () => {
  it('covers any file exactly with the planned number of ranges', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 64 * MiB }), (total, connections, minSplit) => {
        const count = segmentCount(total, connections, minSplit);
        const ranges = planSegments(total, count);
        expect(count).toBeGreaterThanOrEqual(1);
        expect(count).toBeLessThanOrEqual(connections);
        expect(coversExactly(ranges, total)).toBe(true);
        expect(ranges.length).toBeLessThanOrEqual(count);
        if (total >= minSplit * count && count > 1) for (const range of ranges) expect(range.end - range.start).toBeGreaterThanOrEqual(Math.floor(minSplit / 2));
      }),
      { numRuns: 500 },
    );
  });

  it('never plans a piece smaller than the minimum split when the file allows one per connection', () => {
    expect(segmentCount(10 * MiB, 8, 1 * MiB)).toBe(8);
    expect(segmentCount(3 * MiB, 8, 1 * MiB)).toBe(3);
    expect(segmentCount(100, 8, 1 * MiB)).toBe(1);
    expect(segmentCount(0, 8, 1 * MiB)).toBe(1);
  });

  it('keeps coverage exact through any sequence of splits, and every split leaves both halves ≥ minSplit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 36 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 4096, max: 8 * MiB }),
        fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 40 }),
        (total, connections, minSplit, steps) => {
          const ranges: PlannedRange[] = planSegments(total, segmentCount(total, connections, minSplit));
          for (const [pick, progress] of steps) {
            // Some bytes of a random range arrive, then an idle connection splits the largest remaining one.
            const range = ranges[pick % ranges.length];
            range.offset += Math.floor(remaining(range) * progress);
            const victimIndex = largestRemaining(ranges);
            if (victimIndex < 0) break;
            const victim = ranges[victimIndex];
            const middle = splitPoint(victim, minSplit);
            if (middle === null) continue;
            expect(middle - victim.offset).toBeGreaterThanOrEqual(minSplit);
            expect(victim.end - middle).toBeGreaterThanOrEqual(minSplit);
            ranges.splice(victimIndex + 1, 0, { start: middle, end: victim.end, offset: middle });
            victim.end = middle;
            expect(coversExactly(ranges, total)).toBe(true);
            for (const each of ranges) expect(each.offset).toBeLessThanOrEqual(each.end);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses to split below the minimum', () => {
    expect(splitPoint({ start: 0, end: 2 * MiB - 1, offset: 0 }, MiB)).toBeNull();
    expect(splitPoint({ start: 0, end: 10 * MiB, offset: 9 * MiB }, MiB)).toBeNull();
    expect(splitPoint({ start: 0, end: 4 * MiB, offset: 0 }, MiB)).toBe(2 * MiB);
  });

  it('picks the range with the most bytes left', () => {
    const ranges = [
      { start: 0, end: 10, offset: 9 },
      { start: 10, end: 40, offset: 12 },
      { start: 40, end: 60, offset: 40 },
    ];
    expect(largestRemaining(ranges)).toBe(1);
    expect(largestRemaining(ranges, (index) => index !== 1)).toBe(2);
    expect(largestRemaining([{ start: 0, end: 5, offset: 5 }])).toBe(-1);
  });

  it('detects gaps and overlaps', () => {
    expect(coversExactly([{ start: 0, end: 5 }, { start: 6, end: 10 }], 10)).toBe(false);
    expect(coversExactly([{ start: 0, end: 6 }, { start: 5, end: 10 }], 10)).toBe(false);
    expect(coversExactly([{ start: 0, end: 5 }, { start: 5, end: 9 }], 10)).toBe(false);
  });
});
