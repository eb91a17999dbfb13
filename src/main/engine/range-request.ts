// One content request for one segment: send it with Range/If-Range, check the answer, stream the bytes to their offset.
import { discardBody, type HttpClient, type HttpResponse } from './http/client.ts';
import { errorForStatus, readErrorBody } from './http/api-error.ts';
import { contentRangeMismatch } from './http/content-range.ts';
import { headerValue } from './http/retry-policy.ts';
import { RestartRequired, RetryableError } from './errors.ts';
import type { PartFile } from './part-file.ts';
import type { DownloadSource } from './source.ts';

/** A segment while it downloads. `offset` only grows; `end` may shrink when an idle connection takes its second half. */
export interface LiveSegment {
  start: number;
  end: number;
  /** Bytes in [start, offset) are handed to writes; a split never cuts below it. */
  offset: number;
  /** Bytes in [start, written) are written (awaited) to the part file; trails offset by at most one chunk. */
  written: number;
  /** Bytes in [start, confirmed) are fsynced and recorded in the journal. */
  confirmed: number;
  /** A connection owns this segment. */
  assigned: boolean;
  /** A request for it is open right now. */
  streaming: boolean;
}

/** What the remote file must still be for a resumed range to be trusted. */
export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

/** The If-Range value: a strong ETag, else the Last-Modified date (RFC 9110 §13.1.5); weak ETags are not allowed there. */
export function ifRangeValue(validators: Validators): string | null {
  if (validators.etag && !validators.etag.startsWith('W/')) return validators.etag;
  return validators.lastModified;
}

/** Opens a ranged request for [from, end) — or `from-` when end is null — carrying If-Range when we have a validator. */
export async function requestRange(
  http: HttpClient,
  source: DownloadSource,
  from: number,
  end: number | null,
  validators: Validators,
  signal: AbortSignal,
): Promise<{ response: HttpResponse; sentIfRange: boolean }> {
  const target = source.contentRequest();
  const headers: Record<string, string> = { ...target.headers, range: `bytes=${from}-${end === null ? '' : end - 1}` };
  const ifRange = ifRangeValue(validators);
  if (ifRange) headers['if-range'] = ifRange;
  const response = await http.get(target.url, headers, { signal, followRedirects: target.followRedirects });
  return { response, sentIfRange: ifRange !== null };
}

/**
 * Checks that a ranged response is exactly what was asked; otherwise throws what the download loop must do.
 * A 200 to a resumed request means the file changed (If-Range failed) or the server stopped honouring Range:
 * either way the bytes we hold cannot be trusted together with the new ones.
 */
export async function checkRangeResponse(
  response: HttpResponse,
  expected: { start: number; end: number | null; total: number | null },
  validators: Validators,
  sentIfRange: boolean,
): Promise<void> {
  if (response.status === 206) {
    const mismatch = contentRangeMismatch(headerValue(response.headers['content-range']), headerValue(response.headers['content-length']), expected);
    if (mismatch) {
      discardBody(response.body);
      throw new RetryableError(`bad ranged response: ${mismatch}`, { status: 206 });
    }
    const etag = headerValue(response.headers.etag);
    if (validators.etag && etag && etag !== validators.etag) {
      discardBody(response.body);
      throw new RestartRequired(`the remote file changed (ETag ${validators.etag} became ${etag})`);
    }
    return;
  }
  if (response.status === 200) {
    discardBody(response.body);
    throw new RestartRequired(sentIfRange ? 'the remote file changed (the server answered a resumed request with the whole file)' : 'the server stopped honouring Range requests');
  }
  if (response.status === 416) {
    discardBody(response.body);
    throw new RestartRequired('the remote file is shorter than the part already downloaded (416)');
  }
  throw errorForStatus(response.status, response.headers, await readErrorBody(response.body));
}

/**
 * Streams a response body into `segment` at its offset until the segment's (possibly shrunk) end, awaiting each write
 * so memory stays at one socket buffer per connection whatever the file size (backpressure by pull).
 * Returns true when the body ended before the segment did (the caller retries from the new offset).
 */
export async function streamIntoSegment(
  body: HttpResponse['body'],
  segment: LiveSegment,
  part: PartFile,
  onBytes: (count: number) => void,
): Promise<'complete' | 'ended-early'> {
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = segment.end - segment.offset;
    if (room <= 0) break;
    const data = chunk.length > room ? chunk.subarray(0, room) : chunk;
    const position = segment.offset;
    segment.offset = position + data.length;
    await part.write(data, position);
    segment.written = segment.offset;
    onBytes(data.length);
    if (segment.offset >= segment.end) break;
  }
  if (segment.offset >= segment.end) {
    // Leaving early destroys the socket: the rest of a split range belongs to another connection now.
    discardBody(body);
    return 'complete';
  }
  return 'ended-early';
}
