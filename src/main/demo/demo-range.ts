// Range and If-Range rules for the demo Files API (RFC 9110 §14 and §13.1.5), single ranges only, as the real API does.

/** What to send: the whole file, a 416, or the inclusive byte range [start, end]. */
export type RangeAnswer = { type: 'full' } | { type: 'unsatisfiable' } | { type: 'partial'; start: number; end: number };

/** A server may ignore a Range it does not understand (multi-range, malformed): those get the whole file. */
export function answerRange(header: string | undefined, total: number): RangeAnswer {
  if (header === undefined) return { type: 'full' };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === '' && match[2] === '')) return { type: 'full' };
  if (match[1] === '') {
    // bytes=-N: the last N bytes.
    const suffix = Number(match[2]);
    if (suffix === 0 || total === 0) return { type: 'unsatisfiable' };
    return { type: 'partial', start: Math.max(0, total - suffix), end: total - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? total - 1 : Number(match[2]);
  // bytes=5-3 is malformed (ignored); bytes=N- past the end is merely unsatisfiable.
  if (match[2] !== '' && end < start) return { type: 'full' };
  if (start >= total) return { type: 'unsatisfiable' };
  return { type: 'partial', start, end: Math.min(end, total - 1) };
}

/** If-Range holds only for the same strong ETag or the exact Last-Modified date; otherwise the whole file is sent. */
export function ifRangeHolds(value: string | undefined, etag: string, lastModified: string): boolean {
  if (value === undefined) return true;
  const given = value.trim();
  if (given.startsWith('W/')) return false;
  if (given.startsWith('"')) return given === etag;
  const date = Date.parse(given);
  return !Number.isNaN(date) && date === Date.parse(lastModified);
}
