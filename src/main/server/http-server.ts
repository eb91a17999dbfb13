// The serve door: one node:http server on loopback for the app shell, the token-guarded /api and the events WebSocket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_BODY_LIMIT, handleApi, sendJson } from './api.ts';
import { bearerToken, generateToken, hostAllowed, originAllowed, subprotocolToken, tokenMatches, type HostPolicy } from './auth.ts';
import type { ContractHandler } from './handler.ts';
import { serveStatic } from './static-files.ts';
import { createEventHub, EVENTS_PATH, type UpgradeRefusal } from './websocket.ts';

// process.getBuiltinModule, not import: an ES import of node:http reads all its exports, loading Node's own bundled undici, tls and http2 (~50 ms).
const { createServer } = process.getBuiltinModule('node:http');

export interface ServerOptions {
  /** Loopback unless told otherwise: the token is the only lock, so the door should not face the network by default. */
  host?: string;
  /** 0 = an ephemeral port. */
  port?: number;
  handler: ContractHandler;
  /** The built renderer (out/renderer); null or missing → a page saying how to build it. */
  staticDir: string | null;
  /** Random (32 bytes, base64url) unless given. */
  token?: string;
  bodyLimit?: number;
  /** Unexpected errors, for the caller to log; the server itself prints nothing. */
  onError?: (error: unknown) => void;
}

export interface RunningServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:7420 */
  url: string;
  token: string;
  close(): Promise<void>;
}

const UNAUTHORIZED = 'missing or wrong access token (send Authorization: Bearer <token>)';

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? generateToken();
  const onError = options.onError ?? (() => {});
  const hub = createEventHub(options.handler);
  const policy: HostPolicy = { boundHost: host.replace(/^\[|\]$/g, '').toLowerCase(), port: 0 };
  const apiContext = { handler: options.handler, bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT, onError };

  /** The checks every request and upgrade passes first; null when it may go on (to the token check, for /api). */
  function refusal(req: IncomingMessage): UpgradeRefusal | null {
    if (!hostAllowed(req.headers.host, policy)) return { status: 403, error: 'unexpected Host header (only this server’s own address is served)' };
    if (!originAllowed(req)) return { status: 403, error: 'cross-origin requests are refused' };
    return null;
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res, null);
    const refused = refusal(req);
    if (refused) {
      req.resume();
      return sendJson(res, refused.status, { error: refused.error });
    }
    // Only origin-form targets: absolute-form (proxy style) or `*` have no business here.
    if (!req.url?.startsWith('/')) return sendJson(res, 400, { error: 'bad request target' });
    setSecurityHeaders(res, req.headers.host!);
    const url = new URL(`http://${req.headers.host}${req.url}`);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      if (!tokenMatches(bearerToken(req), token)) {
        req.resume();
        return sendJson(res, 401, { error: UNAUTHORIZED }, { 'www-authenticate': 'Bearer' });
      }
      if (url.pathname === EVENTS_PATH) return sendJson(res, 426, { error: `${EVENTS_PATH} is a WebSocket` }, { upgrade: 'websocket' });
      return handleApi(req, res, url, apiContext);
    }
    return serveStatic(req, res, url.pathname, options.staticDir);
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      onError(error);
      sendJson(res, 500, { error: 'internal error (see the server log)' });
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    hub.upgrade(req, socket, head, () => {
      const refused = refusal(req);
      if (refused) return refused;
      if (new URL(`http://localhost${req.url ?? '/'}`).pathname !== EVENTS_PATH) return { status: 404, error: `the only WebSocket is ${EVENTS_PATH}` };
      const given = subprotocolToken(req) ?? bearerToken(req);
      return tokenMatches(given, token) ? null : { status: 401, error: UNAUTHORIZED };
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7420, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  policy.port = address.port;
  const urlHost = policy.boundHost.includes(':') ? `[${policy.boundHost}]` : host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${address.port}`,
    token,
    close() {
      closing ??= new Promise<void>((resolve) => {
        hub.close();
        server.close(() => resolve());
        // Keep-alive sockets would hold close() open until they time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * Every response: a strict CSP (the WebSocket is named explicitly because older browsers do not let 'self' cover
 * ws:), no MIME sniffing, no Referer (the URL fragment holds the token; keep even the path to ourselves), no framing.
 */
function setSecurityHeaders(res: ServerResponse, host: string | null): void {
  const connect = host ? `'self' ws://${host}` : `'self'`;
  res.setHeader(
    'content-security-policy',
    `default-src 'self'; connect-src ${connect}; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`,
  );
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
}
