// A Files API origin for one file behind a "link" whose speed the test turns while requests stream (the crash loop's knob).
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface PacedFile {
  id: string;
  filename: string;
  bytes: Buffer;
  createdAt: string;
}

export interface PacedRequest {
  kind: 'metadata' | 'content' | 'other';
  range: string | null;
  ifRange: string | null;
  status: number;
  /** Body bytes the kernel accepted for this response. */
  bytesSent: number;
  ended: boolean;
}

export interface PacedOrigin {
  url: string;
  etag: string;
  requests: PacedRequest[];
  /** Bytes per second for all connections together (one shared link); null: as fast as loopback goes. */
  setRate(bytesPerSecond: number | null): void;
  /** Content body bytes sent so far, over every request. */
  sent(): number;
  waitForSent(bytes: number): Promise<void>;
  /** Resolves once every request so far has ended (after a kill: the origin saw every socket close). */
  allEnded(): Promise<void>;
  close(): Promise<void>;
}

const FAST_CHUNK = 64 * 1024;
const SLOW_CHUNK = 4 * 1024;

export async function startPacedOrigin(file: PacedFile, apiKey: string): Promise<PacedOrigin> {
  const etag = `"paced-${file.bytes.length}"`;
  const requests: PacedRequest[] = [];
  const sockets = new Set<Socket>();
  let rate: number | null = null;
  /** When the shared link is next free (performance.now() ms): chunks queue on it like packets on a slow line. */
  let linkFreeAt = 0;
  let total = 0;
  let sentWaiters: Array<{ bytes: number; resolve: () => void }> = [];
  let endWaiters: Array<() => void> = [];

  const counted = (request: PacedRequest, n: number) => {
    request.bytesSent += n;
    total += n;
    sentWaiters = sentWaiters.filter((waiter) => (total >= waiter.bytes ? (waiter.resolve(), false) : true));
  };
  const ended = (request: PacedRequest) => {
    request.ended = true;
    if (requests.every((each) => each.ended)) for (const resolve of endWaiters.splice(0)) resolve();
  };

  /** Waits for this chunk's turn on the link; the rate is read per chunk, so turning the knob acts at once. */
  async function linkTurn(bytes: number): Promise<void> {
    if (rate === null) return;
    const now = performance.now();
    const start = Math.max(now, linkFreeAt);
    linkFreeAt = start + (bytes / rate) * 1000;
    if (linkFreeAt - now > 0) await delay(linkFreeAt - now);
  }

  async function stream(res: ServerResponse, request: PacedRequest, body: Buffer): Promise<void> {
    for (let offset = 0; offset < body.length && !res.destroyed; ) {
      const chunk = body.subarray(offset, offset + (rate === null ? FAST_CHUNK : SLOW_CHUNK));
      await linkTurn(chunk.length);
      if (res.destroyed) return;
      offset += chunk.length;
      const more = res.write(chunk, (error) => {
        if (!error) counted(request, chunk.length);
      });
      if (!more) await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
    if (!res.destroyed) res.end();
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').slice(1);
    const mine = parts[0] === 'v1' && parts[1] === 'files' && decodeURIComponent(parts[2] ?? '') === file.id;
    const kind = mine && parts.length === 3 ? 'metadata' : mine && parts.length === 4 && parts[3] === 'content' ? 'content' : 'other';
    const request: PacedRequest = { kind, range: req.headers.range ?? null, ifRange: (req.headers['if-range'] as string | undefined) ?? null, status: 0, bytesSent: 0, ended: false };
    requests.push(request);
    res.on('close', () => ended(request));
    req.resume();
    const json = (status: number, value: unknown) => {
      request.status = status;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (req.headers['x-api-key'] !== apiKey) return json(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    if (kind === 'metadata') {
      return json(200, { id: file.id, type: 'file', filename: file.filename, mime_type: 'application/octet-stream', size_bytes: file.bytes.length, created_at: file.createdAt, downloadable: true });
    }
    if (kind !== 'content') return json(404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' } });
    const size = file.bytes.length;
    const match = /^bytes=(\d+)-(\d*)$/.exec(request.range ?? '');
    const honoured = match !== null && (request.ifRange === null || request.ifRange === etag) && Number(match[1]) < size;
    const start = honoured ? Number(match![1]) : 0;
    const last = honoured && match![2] !== '' ? Math.min(size - 1, Number(match![2])) : size - 1;
    request.status = honoured ? 206 : 200;
    res.writeHead(request.status, {
      'content-type': 'application/octet-stream',
      'content-length': last - start + 1,
      etag,
      'accept-ranges': 'bytes',
      ...(honoured && { 'content-range': `bytes ${start}-${last}/${size}` }),
    });
    void stream(res, request, file.bytes.subarray(start, last + 1));
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    etag,
    requests,
    setRate(bytesPerSecond) {
      rate = bytesPerSecond;
      linkFreeAt = performance.now();
    },
    sent: () => total,
    waitForSent(bytes) {
      if (total >= bytes) return Promise.resolve();
      return new Promise((resolve) => sentWaiters.push({ bytes, resolve }));
    },
    allEnded() {
      if (requests.every((each) => each.ended)) return Promise.resolve();
      return new Promise((resolve) => endWaiters.push(resolve));
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
