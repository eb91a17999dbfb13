// Turns an error response into one plain sentence: the API's own message, its error type and the request-id to quote to support.
import { FatalError, RetryableError } from '../errors.ts';
import { headerValue, isRetryableStatus, retryAfterDelay } from './retry-policy.ts';

type Headers = Record<string, string | string[] | undefined>;

/** Longest error body we read: a proxy's HTML page or a lying server must not fill memory. */
const MAX_ERROR_BODY = 64 * 1024;

/** Reads at most MAX_ERROR_BODY bytes of a response body and discards the rest. */
export async function readErrorBody(body: AsyncIterable<Buffer | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.from(chunk);
      chunks.push(buffer.subarray(0, Math.max(0, MAX_ERROR_BODY - size)));
      size += buffer.length;
      if (size >= MAX_ERROR_BODY) break;
    }
  } catch {
    // A body that breaks while we read an error is no extra news: the status already says it failed.
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Describes an error response. The Files API sends `{type:"error", error:{type, message}, request_id}` even when
 * Content-Type says octet-stream, so the body is parsed as JSON whatever its type; anything else is shown briefly.
 */
export function describeErrorResponse(status: number, headers: Headers, bodyText: string): { message: string; requestId: string | null } {
  let apiType: string | null = null;
  let apiMessage: string | null = null;
  let requestId = headerValue(headers['request-id']) ?? headerValue(headers['x-request-id']);
  try {
    const parsed = JSON.parse(bodyText) as { error?: { type?: unknown; message?: unknown }; request_id?: unknown };
    if (parsed && typeof parsed === 'object' && parsed.error && typeof parsed.error === 'object') {
      if (typeof parsed.error.type === 'string') apiType = parsed.error.type;
      if (typeof parsed.error.message === 'string') apiMessage = parsed.error.message;
    }
    if (!requestId && typeof parsed?.request_id === 'string') requestId = parsed.request_id;
  } catch {
    // Not JSON: a proxy page or a plain-text error.
  }
  // Server text ends up on terminals, in logs and in the catalog: control characters (escape sequences) go.
  const text = withoutControlCharacters(apiMessage ?? summarizeBody(bodyText));
  if (apiType) apiType = withoutControlCharacters(apiType).slice(0, 80);
  if (requestId) requestId = withoutControlCharacters(requestId).slice(0, 120);
  const parts = [`HTTP ${status}${apiType ? ` ${apiType}` : ''}`];
  if (text) parts.push(text);
  let message = parts.join(': ');
  if (requestId) message += ` (request-id ${requestId})`;
  return { message, requestId };
}

/** The error to throw for a non-success status: retryable ones carry the server's requested wait. */
export function errorForStatus(status: number, headers: Headers, bodyText: string): RetryableError | FatalError {
  const { message, requestId } = describeErrorResponse(status, headers, bodyText);
  if (isRetryableStatus(status, headerValue(headers['x-should-retry']))) {
    return new RetryableError(message, { status, requestId, retryAfterMs: retryAfterDelay(headers) });
  }
  return new FatalError(message, { status, requestId });
}

function summarizeBody(bodyText: string): string {
  const looksLikeHtml = /^\s*</.test(bodyText);
  const text = looksLikeHtml ? bodyText.replace(/<[^>]*>/g, ' ') : bodyText;
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

/** Replaces C0/C1 control characters (ESC, BEL, CR…) with spaces: a server cannot drive the user's terminal. */
export function withoutControlCharacters(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}
