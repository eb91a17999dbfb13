// Content-Range checks: a 206 is accepted only when it is exactly the range we asked for, of the file we expect.

export interface ContentRange {
  start: number;
  /** Inclusive last byte, as the header writes it. */
  last: number;
  /** Total length, or null for `*`. */
  total: number | null;
}

/** Parses `bytes a-b/total` (or `bytes a-b/*`); null for anything else. */
export function parseContentRange(header: string | null): ContentRange | null {
  if (!header) return null;
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header);
  if (!match) return null;
  const start = Number(match[1]);
  const last = Number(match[2]);
  const total = match[3] === '*' ? null : Number(match[3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last) || last < start) return null;
  if (total !== null && (!Number.isSafeInteger(total) || last >= total)) return null;
  return { start, last, total };
}

export interface RangeExpectation {
  start: number;
  /** Exclusive end we asked for, or null for an open range (`bytes=start-`). */
  end: number | null;
  /** The file's total size when known (metadata size_bytes or an earlier Content-Range). */
  total: number | null;
}

/**
 * Why a 206 does not match what was asked, or null when it does.
 * Accepting a shifted or shortened range would write the wrong bytes at the wrong offset, so any mismatch fails the request.
 */
export function contentRangeMismatch(header: string | null, contentLength: string | null, expected: RangeExpectation): string | null {
  const range = parseContentRange(header);
  if (!range) return `206 with an unreadable Content-Range (${JSON.stringify(header)})`;
  if (range.start !== expected.start) return `206 starts at byte ${range.start}, asked for ${expected.start}`;
  if (range.total === null) return '206 without a total length in Content-Range';
  if (expected.total !== null && range.total !== expected.total) return `206 says the file has ${range.total} bytes, expected ${expected.total}`;
  const wantedLast = (expected.end ?? range.total) - 1;
  if (range.last !== wantedLast) return `206 ends at byte ${range.last}, asked up to ${wantedLast}`;
  if (contentLength !== null && Number(contentLength) !== range.last - range.start + 1) {
    return `206 Content-Length ${contentLength} disagrees with its Content-Range (${range.last - range.start + 1} bytes)`;
  }
  return null;
}
