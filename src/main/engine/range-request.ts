// One content request for one segment: send it with Range/If-Range, check the answer, stream the bytes to their offset.
import { discardBody, type HttpClient, type HttpResponse, type RequestWait } from './http/client.ts';
import { errorForStatus, readErrorBody } from './http/api-error.ts';
import { contentRangeMismatch } from './http/content-range.ts';
import { headerValue } from './http/retry-policy.ts';
import { RestartRequired, RetryableError, storageErrorFrom } from './errors.ts';
import type { PartFile } from './part-file.ts';
import type { ContentTarget } from './content-target.ts';

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

/**
 * Opens a ranged request for [from, end) — or `from-` when end is null — carrying If-Range when we have a validator.
 * It goes where `target` says: the source's URL, or where its redirects ended (see content-target.ts).
 */
export async function requestRange(
  http: HttpClient,
  target: ContentTarget,
  from: number,
  end: number | null,
  validators: Validators,
  signal: AbortSignal,
  onWait?: (wait: RequestWait | null) => void,
): Promise<{ response: HttpResponse; sentIfRange: boolean }> {
  const headers: Record<string, string> = { range: `bytes=${from}-${end === null ? '' : end - 1}` };
  const ifRange = ifRangeValue(validators);
  if (ifRange) headers['if-range'] = ifRange;
  const response = await target.get(http, headers, { signal, onWait });
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

/** Bytes one connection may hold while its previous write is on its way to the disk; past this the socket is paused. */
const MAX_PENDING_BYTES = 256 * 1024;

/**
 * Streams a response body into `segment` at its offset until the segment's (possibly shrunk) end.
 * Chunks are taken as the socket delivers them (no stream re-buffering) and written with one writev per batch:
 * while a write is on its way, the next chunks gather, up to MAX_PENDING_BYTES, then the socket is paused.
 * So memory stays bounded per connection whatever the file size, and a fast disk sees few, large writes.
 * Bytes received before an error are still written, so a broken body keeps its progress.
 * Resolves 'ended-early' when the body ended before the segment did (the caller retries from the new offset).
 */
/** The global speed cap as a stream sees it: bytes are taken before they count (see traffic/bandwidth-limiter.ts). */
export interface ByteRateLimit {
  readonly bytesPerSecond: number | null;
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

export function streamIntoSegment(
  body: HttpResponse['body'],
  segment: LiveSegment,
  part: PartFile,
  onBytes: (count: number) => void,
  limit?: { limiter: ByteRateLimit; signal: AbortSignal },
): Promise<'complete' | 'ended-early'> {
  return new Promise((resolve, reject) => {
    let throttled = false;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let writing = false;
    let finished = false;
    let reachedEnd = false;
    let failure: unknown = null;
    let settled = false;

    const settle = () => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      if (failure !== null) {
        discardBody(body);
        reject(failure);
      } else {
        resolve(reachedEnd || segment.offset >= segment.end ? 'complete' : 'ended-early');
      }
    };
    const flush = () => {
      if (writing || settled) return;
      if (pendingBytes === 0) {
        if (finished) settle();
        return;
      }
      const buffers = pending;
      const length = pendingBytes;
      const position = segment.written;
      pending = [];
      pendingBytes = 0;
      writing = true;
      maybeResume();
      part.writev(buffers, position).then(
        () => {
          writing = false;
          segment.written = position + length;
          onBytes(length);
          flush();
        },
        (error: unknown) => {
          writing = false;
          // Nothing of this batch is known to be on disk: the segment goes back to what was written, so a retry
          // asks for (and writes) exactly the missing bytes at their own offsets.
          segment.offset = segment.written;
          failure ??= storageErrorFrom(error, 'the part file');
          finished = true;
          pending = [];
          pendingBytes = 0;
          settle();
        },
      );
    };
    const maybeResume = () => {
      if (!finished && !throttled && pendingBytes < MAX_PENDING_BYTES && body.isPaused()) body.resume();
    };
    const onData = (chunk: Buffer) => {
      if (finished) return;
      const room = segment.end - segment.offset;
      if (room > 0) {
        const data = chunk.length > room ? chunk.subarray(0, room) : chunk;
        segment.offset += data.length;
        pending.push(data);
        pendingBytes += data.length;
        if (limit && limit.limiter.bytesPerSecond !== null) {
          // Under a speed cap the socket stays paused until these bytes are paid for: the server slows down with us.
          throttled = true;
          body.pause();
          limit.limiter.take(data.length, limit.signal).then(
            () => {
              throttled = false;
              maybeResume();
            },
            (error: unknown) => onError(error),
          );
        }
      }
      if (segment.offset >= segment.end) {
        // The rest of this body belongs to another connection now (a split) or past the range: drop the socket.
        reachedEnd = true;
        finished = true;
        discardBody(body);
      } else if (pendingBytes >= MAX_PENDING_BYTES) {
        body.pause();
      }
      flush();
    };
    const onEnd = () => {
      finished = true;
      flush();
    };
    const onError = (error: unknown) => {
      if (finished) return;
      failure = error;
      finished = true;
      flush();
    };
    const onClose = () => {
      if (finished) return;
      finished = true;
      flush();
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
    // A body that broke before we listened (a reset while the part file was being prepared) fires nothing more.
    if (body.errored) onError(body.errored);
    else if (body.destroyed || body.closed) onClose();
  });
}
