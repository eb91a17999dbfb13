// Test helpers for the serve door: an in-memory stub ContractHandler, raw HTTP calls with any headers, and a WebSocket listener.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { WebSocket } from 'ws';
import type { DownloadView, EventName, Events, RequestName, Requests } from '../../src/shared/contract.ts';
import type { ContractHandler } from '../../src/main/server/handler.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../src/main/server/http-server.ts';
import { EVENTS_PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../../src/main/server/auth.ts';

type Reply<Name extends RequestName> = Requests[Name]['reply'];
type Responder = (args: unknown) => unknown;

export interface StubHandler extends ContractHandler {
  /** Every request that reached the handler, already validated. */
  calls: { name: RequestName; args: unknown }[];
  /** Canned replies by request name; a responder may throw to test error mapping. */
  replies: Partial<Record<RequestName, Responder>>;
  emit<Name extends EventName>(event: Name, payload: Events[Name]): void;
  listenerCount(): number;
  closed: boolean;
  close(): Promise<void>;
}

export function createStubHandler(): StubHandler {
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  const stub: StubHandler = {
    calls: [],
    replies: {},
    closed: false,
    async request<Name extends RequestName>(name: Name, args: Requests[Name]['args']): Promise<Reply<Name>> {
      stub.calls.push({ name, args });
      const responder = stub.replies[name];
      return (responder ? responder(args) : undefined) as Reply<Name>;
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (payload: unknown) => void);
      return () => set.delete(listener as (payload: unknown) => void);
    },
    emit(event, payload) {
      for (const listener of listeners.get(event) ?? []) listener(payload);
    },
    listenerCount: () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
    async close() {
      stub.closed = true;
    },
  };
  return stub;
}

export interface TestServer {
  server: RunningServer;
  stub: StubHandler;
  /** host:port as a browser would send it in Host. */
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const stub = createStubHandler();
  const server = await startServer({ port: 0, staticDir: null, handler: stub, ...options });
  const url = new URL(server.url);
  return { server, stub, host: url.host, port: Number(url.port), close: () => server.close() };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): any;
}

export interface CallOptions {
  token?: string | null;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

/** One request with exactly the path and headers given (no URL normalisation, any Host), on a fresh connection. */
export function call(test: TestServer, method: string, path: string, options: CallOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string | number> = { host: test.host, connection: 'close', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: test.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Shorthand: an authorized JSON call. */
export function api(test: TestServer, method: string, path: string, body?: unknown): Promise<RawResponse> {
  return call(test, method, path, { token: test.server.token, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
}

export interface EventSocket {
  socket: WebSocket;
  messages: { event: EventName; payload: any }[];
  /** Resolves with the first message (past or future) matching `predicate`. */
  waitFor(predicate: (message: { event: EventName; payload: any }) => boolean): Promise<{ event: EventName; payload: any }>;
  close(): Promise<void>;
}

/** Opens /api/events; resolves once open, rejects with the HTTP status when the upgrade is refused. */
export function openEvents(test: TestServer, options: { protocols?: string[]; headers?: Record<string, string>; path?: string } = {}): Promise<EventSocket> {
  const protocols = options.protocols ?? [EVENTS_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${test.server.token}`];
  const socket = new WebSocket(`ws://${test.host}${options.path ?? '/api/events'}`, protocols, { headers: options.headers });
  const messages: EventSocket['messages'] = [];
  let waiters: { predicate: (m: EventSocket['messages'][number]) => boolean; resolve: (m: EventSocket['messages'][number]) => void }[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    messages.push(message);
    waiters = waiters.filter((waiter) => (waiter.predicate(message) ? (waiter.resolve(message), false) : true));
  });
  const events: EventSocket = {
    socket,
    messages,
    waitFor(predicate) {
      const seen = messages.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    close() {
      if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
      return new Promise((resolve) => {
        socket.once('close', () => resolve());
        socket.terminate();
      });
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(events));
    socket.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        socket.terminate();
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      });
    });
    socket.once('error', reject);
  });
}

export function downloadView(id: string, bytesDownloaded: number, overrides: Partial<DownloadView> = {}): DownloadView {
  return {
    id, sourceKind: 'files-api', source: `file_${id}`, filename: `${id}.bin`, sizeBytes: 1000, state: 'downloading', error: null,
    bytesDownloaded, bytesPerSecond: 10, connections: 2, retryCount: 0, waitingUntil: null, segments: [],
    addedAt: '2025-01-01T00:00:00.000Z', completedAt: null, finalPath: null, sha256: null, ...overrides,
  };
}
