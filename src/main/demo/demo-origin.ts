// A built-in sample Files API on 127.0.0.1 for `--demo`: list, metadata and ranged content of generated files, no key needed.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_API_KEY, demoCatalog, type DemoFile } from './demo-catalog.ts';
import { streamContent } from './demo-content.ts';
import { answerRange, ifRangeHolds } from './demo-range.ts';

// process.getBuiltinModule, not import: an ES import of node:http reads all its exports, loading Node's own bundled undici, tls and http2 (~50 ms).
const { createServer } = process.getBuiltinModule('node:http');

export { DEMO_API_KEY, type DemoFile } from './demo-catalog.ts';

/** Per response: slow enough that progress bars, chunk bars and Pause can be watched, fast enough not to bore. */
export const DEMO_BYTES_PER_SECOND = 2 * 1024 * 1024;

export interface DemoOriginOptions {
  host?: string;
  /** 0 (default) = an ephemeral port. */
  port?: number;
  /** null = as fast as the socket drains (tests). */
  bytesPerSecond?: number | null;
}

export interface DemoOrigin {
  /** The API base to point Filehaul at, e.g. http://127.0.0.1:41234 */
  url: string;
  apiKey: string;
  files: readonly DemoFile[];
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error', 405: 'invalid_request_error', 416: 'invalid_request_error' };

export async function startDemoOrigin(options: DemoOriginOptions = {}): Promise<DemoOrigin> {
  const files = demoCatalog();
  const byId = new Map(files.map((file) => [file.id, file]));
  // Newest first, as the real list endpoint orders.
  const listed = [...files].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const rate = options.bytesPerSecond === undefined ? DEMO_BYTES_PER_SECOND : options.bytesPerSecond;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const requestId = `req_demo${randomBytes(12).toString('hex')}`;
    res.setHeader('request-id', requestId);
    const sendJson = (status: number, body: unknown, headers: OutgoingHttpHeaders = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    const fail = (status: number, message: string, headers: OutgoingHttpHeaders = {}) =>
      sendJson(status, { type: 'error', error: { type: ERROR_TYPES[status] ?? 'api_error', message }, request_id: requestId }, headers);

    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const parts = url.pathname.split('/').slice(1);
    if (parts[0] !== 'v1' || parts[1] !== 'files') return fail(404, `Not found: ${url.pathname}`);
    if (req.headers['x-api-key'] !== DEMO_API_KEY) return fail(401, 'invalid x-api-key');
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, `Method ${req.method} not allowed: the demo files are read-only`, { allow: 'GET, HEAD' });

    if (parts.length === 2 || (parts.length === 3 && parts[2] === '')) return list(url.searchParams);
    const file = byId.get(decodeSafely(parts[2]));
    if (!file) return fail(404, `File not found: ${parts[2].slice(0, 80)}`);
    if (parts.length === 3) return sendJson(200, metadata(file));
    if (parts.length === 4 && parts[3] === 'content') return content(file);
    return fail(404, `Not found: ${url.pathname}`);

    /** The beta page shape: data, has_more, first_id, last_id; paging with after_id / before_id. */
    function list(query: URLSearchParams): void {
      const rawLimit = query.get('limit') ?? '20';
      const limit = Number(rawLimit);
      if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > 1000) return fail(400, `limit: must be an integer between 1 and 1000, got ${JSON.stringify(rawLimit.slice(0, 20))}`);
      const afterId = query.get('after_id');
      const beforeId = query.get('before_id');
      if (afterId !== null && beforeId !== null) return fail(400, 'after_id and before_id cannot both be set');
      let start = 0;
      let end = listed.length;
      if (afterId !== null) start = listed.findIndex((file) => file.id === afterId) + 1;
      if (beforeId !== null) end = Math.max(0, listed.findIndex((file) => file.id === beforeId));
      // An unknown cursor gives an empty page rather than wrapping around to the start.
      const unknownCursor = (afterId !== null && start === 0) || (beforeId !== null && !byId.has(beforeId));
      const page = unknownCursor ? [] : beforeId !== null ? listed.slice(Math.max(0, end - limit), end) : listed.slice(start, start + limit);
      const hasMore = page.length > 0 && (beforeId !== null ? end - limit > 0 : start + limit < listed.length);
      sendJson(200, { data: page.map(metadata), has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null });
    }

    function content(file: DemoFile): void {
      // The real API serves only files Claude made; uploads are refused before any byte.
      if (!file.downloadable) return fail(400, `File ${file.id} is not downloadable`);
      const total = file.sizeBytes;
      const headers: OutgoingHttpHeaders = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag: file.etag, 'last-modified': file.lastModified };
      const ifRange = header(req, 'if-range');
      // RFC 9110 §13.1.5: when If-Range fails, the Range is ignored and the whole current file is sent.
      const answer = ifRangeHolds(ifRange, file.etag, file.lastModified) ? answerRange(header(req, 'range'), total) : { type: 'full' as const };
      if (answer.type === 'unsatisfiable') return fail(416, 'Requested range not satisfiable', { ...headers, 'content-type': 'application/json', 'content-range': `bytes */${total}` });
      const start = answer.type === 'partial' ? answer.start : 0;
      const end = answer.type === 'partial' ? answer.end : total - 1;
      if (answer.type === 'partial') headers['content-range'] = `bytes ${start}-${end}/${total}`;
      headers['content-length'] = end - start + 1;
      res.writeHead(answer.type === 'partial' ? 206 : 200, headers);
      if (req.method === 'HEAD' || total === 0) {
        res.end();
        return;
      }
      void streamContent(res, file, start, end, rate);
    }
  }

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    apiKey: DEMO_API_KEY,
    files,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Paced downloads in flight would otherwise keep close() waiting for minutes.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function metadata(file: DemoFile): Record<string, unknown> {
  return { id: file.id, type: 'file', filename: file.filename, mime_type: file.mimeType, size_bytes: file.sizeBytes, created_at: file.createdAt, downloadable: file.downloadable };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decodeSafely(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
