// What may be said about a request outside the engine: the URL without query or credentials, the API key only as a short hash.
import { createHash } from 'node:crypto';
import type { HttpResponse } from '../http/client.ts';

/** A stable, non-reversible name for an API key, so two keys get two budgets without the key itself being kept as a map key. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}

/** The key's hash from a request's headers (x-api-key, any letter case), or '' when the request carries none. */
export function apiKeyHashOf(headers: Record<string, string>): string {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'x-api-key' && value) return hashApiKey(value);
  }
  return '';
}

export const UNPARSEABLE_URL = '[unparseable URL]';

/** The URL for logs and events: signed-URL queries and userinfo can be credentials, so both go. */
export function publicUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.href;
  } catch {
    return UNPARSEABLE_URL;
  }
}

/**
 * Counts the bytes a response body receives, for the request log. It counts in the body's own push(), which is what
 * every Readable's producer calls per chunk (undici's request handler too): a 'data' listener would switch the body
 * to flowing before its reader is attached, and that reader would lose the bytes. Call it before anything reads the
 * body: what arrived with the headers is still buffered then, and counted.
 */
export function countBodyBytes(body: HttpResponse['body']): () => number {
  let bytes = body.readableLength;
  const push = body.push;
  body.push = function countingPush(this: HttpResponse['body'], chunk: unknown, encoding?: BufferEncoding): boolean {
    if (typeof chunk === 'string') bytes += Buffer.byteLength(chunk, encoding);
    else if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
    return push.call(this, chunk, encoding);
  };
  return () => bytes;
}

/**
 * Calls `done` once when a response body is finished with: read to its end, destroyed, or failed.
 * undici's body is an autoDestroy Readable, so 'close' follows 'end', destroy() and any error; only 'end' and 'close'
 * are watched, because an 'error' listener would change what an unhandled body error does to the process.
 */
export function whenBodyDone(body: HttpResponse['body'], done: () => void): void {
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    body.off('end', once);
    body.off('close', once);
    done();
  };
  if (body.destroyed || body.readableEnded || body.closed) {
    once();
    return;
  }
  body.on('end', once);
  body.on('close', once);
}

/** Network error codes that mean the endpoint cannot be reached at all (as opposed to one broken connection). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** Whether a thrown request error says the endpoint is down, which counts like an overload for failover. */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? (error as { cause?: { code?: string } } | null)?.cause?.code;
  return code !== undefined && UNREACHABLE_CODES.has(code);
}
