// Which segment an idle connection of a download takes next: an unowned one, or the second half of the largest one still running.
import { liveSegment } from './download-record.ts';
import type { LiveSegment } from './range-request.ts';
import { largestRemaining, splitPoint } from './segments.ts';

/**
 * An unowned segment with bytes left; else, when `mayStealMore`, the second half of the segment with the most bytes
 * left (split at a point where neither half is under `minSplitBytes`), spliced in after it. `stolen` says a split
 * happened (the caller counts it and records the new segments). Null: nothing worth taking.
 */
export function nextAssignment(segments: LiveSegment[], mayStealMore: boolean, minSplitBytes: number): { segment: LiveSegment; stolen: boolean } | null {
  const unowned = largestRemaining(segments, (index) => !segments[index].assigned);
  if (unowned >= 0) return { segment: segments[unowned], stolen: false };
  if (!mayStealMore) return null;
  const victimIndex = largestRemaining(segments);
  if (victimIndex < 0) return null;
  const victim = segments[victimIndex];
  const middle = splitPoint(victim, minSplitBytes);
  if (middle === null) return null;
  const taken = liveSegment({ start: middle, end: victim.end, confirmedOffset: middle });
  victim.end = middle;
  segments.splice(victimIndex + 1, 0, taken);
  return { segment: taken, stolen: true };
}
