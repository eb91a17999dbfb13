// The account's file list (GET /v1/files): both page shapes, defensive item checks, retries, and a resumable page cursor.
import { setTimeout as sleep } from 'node:timers/promises';
import { FatalError, RetryableError, isAbort } from '../engine/errors.ts';
import { errorForStatus, readErrorBody } from '../engine/http/api-error.ts';
import type { HttpClient, HttpResponse } from '../engine/http/client.ts';
import { backoffDelay, DEFAULT_BACKOFF, isRetryableNetworkError, type BackoffSettings } from '../engine/http/retry-policy.ts';
import { fileIdProblem, filesApiHeaders, parseApiBase } from './files-api.ts';

/** One file of the account as the list reports it. */
export interface RemoteFile {
  id: string;
  filename: string;
  sizeBytes: number;
  /** ISO-8601 UTC. */
  createdAt: string;
  mimeType: string | null;
  /** null when the list did not say (then only the metadata endpoint can tell). */
  downloadable: boolean | null;
}

export interface ListRetryInfo {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface ListOptions {
  /** Files per page, 1-1000 (default 100: few requests under a ~100 a minute budget, small bodies). */
  limit?: number;
  signal?: AbortSignal;
  retry?: BackoffSettings;
  /** Told before each wait, so a command can say why the list is slow. */
  onRetry?: (info: ListRetryInfo) => void;
}

export interface RemotePage {
  files: RemoteFile[];
  /** Pass back to fetchRemotePage for the next page; null on the last page. Opaque: it encodes page shape and value. */
  nextCursor: string | null;
}

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

/** Largest list body read; 1000 items are a few hundred KB, so anything near this is not a list page. */
const MAX_PAGE_BYTES = 32 * 1024 * 1024;

/** Every file of the account, page after page, in the order the API lists them; each id at most once. */
export async function* listRemoteFiles(http: HttpClient, apiBase: string, apiKey: string, options: ListOptions = {}): AsyncGenerator<RemoteFile> {
  const seenCursors = new Set<string>();
  const seenIds = new Set<string>();
  let cursor: string | null = null;
  do {
    const page: RemotePage = await fetchRemotePage(http, apiBase, apiKey, { ...options, cursor });
    for (const file of page.files) {
      if (seenIds.has(file.id)) continue;
      seenIds.add(file.id);
      yield file;
    }
    cursor = page.nextCursor;
    // A server that hands out the same cursor twice would keep us listing forever (and spending the request budget).
    if (cursor !== null && seenCursors.has(cursor)) throw new FatalError(`The file list from ${parseApiBase(apiBase)} does not advance: it returned the same next-page cursor twice.`);
    if (cursor !== null) seenCursors.add(cursor);
  } while (cursor !== null);
}

/** One page of the list: the first without a cursor, the next with the cursor the previous page returned. */
export async function fetchRemotePage(http: HttpClient, apiBase: string, apiKey: string, options: ListOptions & { cursor?: string | null } = {}): Promise<RemotePage> {
  const base = parseApiBase(apiBase);
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new RangeError(`list limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
  const query = new URLSearchParams({ limit: String(limit) });
  if (options.cursor) {
    const { shape, value } = decodeListCursor(options.cursor);
    query.set(shape === 'beta' ? 'after_id' : 'page', value);
  }
  const text = await getWithRetries(http, `${base}/v1/files?${query}`, { ...filesApiHeaders(apiKey), accept: 'application/json' }, base, options);
  return parseListPage(text, base);
}

/** The cursor the UI keeps between pages: `beta:<last_id>` or `ga:<next_page>`, so the next request uses the right parameter. */
export function encodeListCursor(shape: 'beta' | 'ga', value: string): string {
  return `${shape}:${value}`;
}

export function decodeListCursor(cursor: string): { shape: 'beta' | 'ga'; value: string } {
  const colon = cursor.indexOf(':');
  const shape = cursor.slice(0, colon);
  const value = cursor.slice(colon + 1);
  if (colon < 0 || (shape !== 'beta' && shape !== 'ga') || value === '') throw new RangeError(`not a file list cursor: ${JSON.stringify(cursor.slice(0, 80))}`);
  return { shape, value };
}

/**
 * Reads one page body. The shape decides the cursor: `has_more`/`last_id` is the beta page (next: after_id=last_id),
 * `next_page` the GA one (next: page=next_page). A body with both is read as beta: if that is wrong the cursor
 * repeats and the listing fails loudly, whereas trusting a stray `next_page: null` would silently stop early.
 */
export function parseListPage(text: string, apiBase: string): RemotePage {
  const fail = (what: string) => new FatalError(`The file list from ${apiBase} is malformed: ${what}.`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw fail(`the body is not JSON (got ${JSON.stringify(text.slice(0, 80))})`);
  }
  if (!isObject(body)) throw fail('the body is not a JSON object');
  if (!Array.isArray(body.data)) throw fail(`"data" must be an array (got ${brief(body.data)})`);
  const files = body.data.map((item, index) => parseListItem(item, index, fail));

  if ('has_more' in body || 'last_id' in body) {
    if (typeof body.has_more !== 'boolean') throw fail(`"has_more" must be true or false (got ${brief(body.has_more)})`);
    if (!body.has_more) return { files, nextCursor: null };
    if (typeof body.last_id !== 'string' || body.last_id === '') throw fail(`"has_more" is true but "last_id" is not an id (got ${brief(body.last_id)})`);
    return { files, nextCursor: encodeListCursor('beta', body.last_id) };
  }
  if ('next_page' in body) {
    if (body.next_page === null) return { files, nextCursor: null };
    if (typeof body.next_page !== 'string' || body.next_page === '') throw fail(`"next_page" must be a cursor string or null (got ${brief(body.next_page)})`);
    return { files, nextCursor: encodeListCursor('ga', body.next_page) };
  }
  throw fail('it has neither "has_more"/"last_id" nor "next_page", so there is no telling whether more pages follow');
}

/** One list item. A wrong type is an error naming the field: a silent default could archive under a wrong size or month. */
function parseListItem(item: unknown, index: number, fail: (what: string) => FatalError): RemoteFile {
  const at = `data[${index}]`;
  if (!isObject(item)) throw fail(`${at} is not an object (got ${brief(item)})`);
  const field = (name: string) => `${at}${typeof item.id === 'string' ? ` (${item.id.slice(0, 80)})` : ''}.${name}`;
  const id = item.id;
  if (typeof id !== 'string') throw fail(`${at}.id must be a string (got ${brief(id)})`);
  const idProblem = fileIdProblem(id);
  if (idProblem) throw fail(`${at}.id is not a usable file id: ${idProblem}`);
  if (typeof item.filename !== 'string') throw fail(`${field('filename')} must be a string (got ${brief(item.filename)})`);
  const size = item.size_bytes;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw fail(`${field('size_bytes')} must be a whole number of bytes (got ${brief(size)})`);
  if (typeof item.created_at !== 'string' || Number.isNaN(Date.parse(item.created_at))) throw fail(`${field('created_at')} must be an RFC 3339 date (got ${brief(item.created_at)})`);
  const mimeType = item.mime_type;
  if (mimeType !== undefined && mimeType !== null && typeof mimeType !== 'string') throw fail(`${field('mime_type')} must be a string (got ${brief(mimeType)})`);
  const downloadable = item.downloadable;
  if (downloadable !== undefined && downloadable !== null && typeof downloadable !== 'boolean') throw fail(`${field('downloadable')} must be true or false (got ${brief(downloadable)})`);
  return {
    id,
    filename: item.filename,
    sizeBytes: size,
    createdAt: new Date(item.created_at).toISOString(),
    mimeType: typeof mimeType === 'string' ? mimeType.slice(0, 255) : null,
    downloadable: typeof downloadable === 'boolean' ? downloadable : null,
  };
}

/**
 * GET with the engine's retry rules: connection errors, 408/409/429/5xx back off with full jitter, and a server's
 * Retry-After wins even beyond the cap. Anything else (401, 404, a malformed body) fails at once.
 */
async function getWithRetries(http: HttpClient, url: string, headers: Record<string, string>, base: string, options: ListOptions): Promise<string> {
  const backoff = options.retry ?? DEFAULT_BACKOFF;
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await http.get(url, headers, { signal: options.signal, followRedirects: false });
      if (response.status !== 200) throw errorForStatus(response.status, response.headers, await readErrorBody(response.body));
      return await readPageBody(response.body, base);
    } catch (error) {
      if (options.signal?.aborted || isAbort(error)) throw error;
      if (error instanceof FatalError) throw new FatalError(`Listing the files at ${base} failed: ${error.message}`, { status: error.status, requestId: error.requestId, cause: error });
      if (!(error instanceof RetryableError) && !isRetryableNetworkError(error)) throw new FatalError(`Listing the files at ${base} failed: ${networkMessage(error)}`, { cause: error });
      const reason = error instanceof RetryableError ? error.message : networkMessage(error);
      if (attempt >= backoff.maxRetries) throw new FatalError(`Listing the files at ${base} failed after ${attempt} ${attempt === 1 ? 'retry' : 'retries'}: ${reason}`, { cause: error });
      const delayMs = (error instanceof RetryableError ? error.retryAfterMs : null) ?? backoffDelay(attempt, backoff);
      options.onRetry?.({ attempt: attempt + 1, delayMs, reason });
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}

/** The body as text, bounded; a body that breaks mid-way throws the network error, which is retried. */
async function readPageBody(body: HttpResponse['body'], base: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    // Throwing out of the loop destroys the body (the async iterator's return), so nothing more is read.
    if (size > MAX_PAGE_BYTES) throw new FatalError(`a list page from ${base} is larger than ${MAX_PAGE_BYTES / 1024 / 1024} MiB; that is not a file list`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function networkMessage(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short rendering of a bad value for an error message. */
function brief(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
