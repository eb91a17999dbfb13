// Range planning for segmented downloads: pure functions that cut a file into byte ranges and split them for idle connections.

/** A range [start, end) with the offset up to which its bytes are taken care of. */
export interface PlannedRange {
  start: number;
  /** Exclusive end. */
  end: number;
  /** Bytes in [start, offset) are already written (or promised to a write in flight). */
  offset: number;
}

/** Splits start on this boundary so segments line up with file system blocks. */
const ALIGNMENT = 4096;

/** How many segments a file of `total` bytes deserves: never more than the connections, never a piece below `minSplit`. */
export function segmentCount(total: number, connections: number, minSplit: number): number {
  if (total <= 0) return 1;
  const bySize = Math.floor(total / Math.max(1, minSplit));
  return Math.max(1, Math.min(connections, bySize));
}

/**
 * Cuts [0, total) into `count` nearly equal ranges, ends aligned to 4 KiB where the file allows.
 * Equal pieces finish together on an even origin, so few idle connections need to split later (each split costs a request).
 */
export function planSegments(total: number, count: number): PlannedRange[] {
  const pieces = Math.max(1, Math.min(count, Math.max(1, total)));
  const ranges: PlannedRange[] = [];
  let start = 0;
  for (let index = 1; index <= pieces; index++) {
    let end = index === pieces ? total : alignDown(Math.floor((total * index) / pieces));
    if (end <= start) end = Math.min(total, start + Math.ceil((total - start) / (pieces - index + 1)));
    ranges.push({ start, end, offset: start });
    start = end;
  }
  return ranges.filter((range) => range.end > range.start || total === 0);
}

/** Bytes still to fetch in a range. */
export function remaining(range: PlannedRange): number {
  return Math.max(0, range.end - range.offset);
}

/**
 * Where to split `range` so an idle connection takes its second half: the midpoint of what is left, aligned.
 * Returns null when either half would be smaller than `minSplit` (a new request would cost more than it saves).
 */
export function splitPoint(range: PlannedRange, minSplit: number): number | null {
  const left = remaining(range);
  if (left < 2 * Math.max(1, minSplit)) return null;
  let middle = alignDown(range.offset + Math.floor(left / 2));
  if (middle <= range.offset) middle = range.offset + Math.floor(left / 2);
  if (middle - range.offset < minSplit || range.end - middle < minSplit) return null;
  return middle;
}

/** Index of the range with the most bytes left (the one an idle connection should help), or -1 when all are done. */
export function largestRemaining(ranges: readonly PlannedRange[], eligible: (index: number) => boolean = () => true): number {
  let best = -1;
  let bestLeft = 0;
  ranges.forEach((range, index) => {
    const left = remaining(range);
    if (left > bestLeft && eligible(index)) {
      best = index;
      bestLeft = left;
    }
  });
  return best;
}

/** True when the ranges cover [0, total) exactly, in order, without gaps or overlaps. */
export function coversExactly(ranges: readonly { start: number; end: number }[], total: number): boolean {
  // An empty file is one empty range (or none): there is nothing to cover.
  if (total === 0) return ranges.length <= 1 && ranges.every((range) => range.start === 0 && range.end === 0);
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  let expected = 0;
  for (const range of sorted) {
    if (range.start !== expected || range.end <= range.start) return false;
    expected = range.end;
  }
  return expected === total;
}

function alignDown(value: number): number {
  return value - (value % ALIGNMENT);
}
