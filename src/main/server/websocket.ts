// Events over WebSocket /api/events: the handler's events fanned out to every browser, progress coalesced to ≤ ~10/s.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DownloadView, EventName, Events } from '../../shared/contract.ts';
import { EVENTS_PROTOCOL, TOKEN_PROTOCOL_PREFIX } from './auth.ts';
import type { ContractHandler } from './handler.ts';

// process.getBuiltinModule, not import: an ES import of node:http reads all its exports, loading Node's own bundled undici, tls and http2 (~50 ms).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

export const EVENTS_PATH = '/api/events';
const PROGRESS_INTERVAL_MS = 100;
/** A client this far behind gets no new batch until it catches up; its pending map keeps only the latest views. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 30_000;

export interface UpgradeRefusal {
  status: number;
  error: string;
}

export interface EventHub {
  /** Takes over an upgrade request: refuses it (with a JSON body) when `check` says so, else opens the socket. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, check: () => UpgradeRefusal | null): void;
  close(): void;
}

/** One browser: its socket and the newest view of every download whose progress it has not been sent yet. */
class EventClient {
  readonly socket: WebSocket;
  alive = true;
  readonly #pending = new Map<string, DownloadView>();
  #timer: NodeJS.Timeout | null = null;
  #lastFlush = 0;

  constructor(socket: WebSocket) {
    this.socket = socket;
  }

  progress(downloads: readonly DownloadView[]): void {
    for (const download of downloads) this.#pending.set(download.id, download);
    this.#schedule();
  }

  /** A `changed` or `removed` carries newer truth than any queued progress: the stale view must not follow it. */
  forget(id: string): void {
    this.#pending.delete(id);
  }

  send(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    if (this.#timer || this.#pending.size === 0) return;
    // The first batch after a quiet spell goes out at once (next tick, after the current burst); later ones wait their turn.
    const wait = Math.max(0, this.#lastFlush + PROGRESS_INTERVAL_MS - Date.now());
    this.#timer = setTimeout(() => this.#flush(), wait);
  }

  #flush(): void {
    this.#timer = null;
    if (this.socket.readyState !== this.socket.OPEN || this.#pending.size === 0) return;
    this.#lastFlush = Date.now();
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#schedule();
      return;
    }
    const payload: Events['progress'] = { downloads: [...this.#pending.values()] };
    this.#pending.clear();
    this.send(JSON.stringify({ event: 'progress', payload }));
  }
}

export function createEventHub(handler: ContractHandler): EventHub {
  const clients = new Set<EventClient>();
  const server = new WebSocketServer({
    noServer: true,
    // Clients only listen; anything they send is ignored, so a big frame is just abuse.
    maxPayload: 4096,
    perMessageDeflate: false,
    // A browser fails the handshake unless one offered protocol is selected. Clients that also offer the plain
    // protocol get it, so the token is not echoed; one that offers only the token protocol (already checked by
    // then) gets that one back: the echo goes only to the client that sent it.
    handleProtocols: (offered) => offered.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : ([...offered].find((item) => item.startsWith(TOKEN_PROTOCOL_PREFIX)) ?? false),
  });

  const broadcast = <Name extends EventName>(event: Name, payload: Events[Name], before?: (client: EventClient) => void): void => {
    const text = JSON.stringify({ event, payload });
    for (const client of clients) {
      before?.(client);
      client.send(text);
    }
  };
  const unsubscribers = [
    handler.on('progress', (payload) => {
      for (const client of clients) client.progress(payload.downloads);
    }),
    handler.on('changed', (payload) => broadcast('changed', payload, (client) => client.forget(payload.download.id))),
    handler.on('removed', (payload) => broadcast('removed', payload, (client) => client.forget(payload.id))),
    handler.on('notice', (payload) => broadcast('notice', payload)),
  ];

  // Ping every 30 s; a client that did not pong since the last ping is gone (sleeping laptop, dropped Wi-Fi).
  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    upgrade(req, socket, head, check) {
      // A client that resets mid-handshake must not become an unhandled 'error' that ends the process.
      socket.on('error', () => socket.destroy());
      const refusal = check();
      if (refusal) {
        const body = JSON.stringify({ error: refusal.error });
        socket.end(
          `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\nContent-Type: application/json; charset=utf-8\r\n`
          + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      server.handleUpgrade(req, socket, head, (ws) => {
        const client = new EventClient(ws);
        clients.add(client);
        ws.on('pong', () => {
          client.alive = true;
        });
        ws.on('error', () => ws.terminate());
        ws.on('close', () => {
          client.stop();
          clients.delete(client);
        });
      });
    },
    close() {
      clearInterval(heartbeat);
      for (const unsubscribe of unsubscribers) unsubscribe();
      for (const client of clients) {
        client.stop();
        client.socket.terminate();
      }
      clients.clear();
      server.close();
    },
  };
}
