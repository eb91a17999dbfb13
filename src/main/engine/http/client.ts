// The HTTP client every request goes through: one undici Agent with keep-alive and the configured timeouts.
import { Module, createRequire } from 'node:module';
import type * as Undici from 'undici';
import type { Agent as AgentType, Dispatcher } from 'undici';
import { followRedirects, type SendOnce } from './redirects.ts';

/**
 * undici's own modules, each loaded only when used. `import 'undici'` evaluates all ~110 of its files (fetch,
 * WebSocket, mocks, caches, HTTP/2) for ~0.1 s of every command's start-up; the Agent and the request call we use
 * are about half of that, and the proxy agent loads only for the runs that need it.
 * undici has no "exports" map, so these paths are importable; undici-modules.test.ts checks that each is the very
 * class or function the package exports, so an undici release that moves one fails the tests, not a download.
 */
const require = createRequire(import.meta.url);
export const undiciModules = {
  agent: () => {
    deferHttp2();
    return require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
  },
  request: () => require('undici/lib/api/api-request.js') as (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>,
  envHttpProxyAgent: () => {
    deferHttp2();
    return require('undici/lib/dispatcher/env-http-proxy-agent.js') as typeof Undici.EnvHttpProxyAgent;
  },
};

/**
 * undici's client.js requires its HTTP/2 half (client-h2.js) at load, and that loads node:http2 and with it tls:
 * ~14 ms of every command's start-up for a protocol we switch off (allowH2: false below). So a stand-in goes into the require cache first: client.js gets a function that loads the real module
 * the first time undici calls it, which with HTTP/2 off is never. undici-modules.test.ts checks both halves.
 */
function deferHttp2(): void {
  const file = require.resolve('undici/lib/dispatcher/client-h2.js');
  if (require.cache[file]) return;
  let real: ((...args: unknown[]) => unknown) | null = null;
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = function connectH2(...args: unknown[]): unknown {
    if (!real) {
      delete require.cache[file];
      real = require(file) as (...args: unknown[]) => unknown;
    }
    return real(...args);
  };
  require.cache[file] = standIn;
}

export interface HttpSettings {
  /** Time to establish a TCP/TLS connection. */
  connectTimeoutMs: number;
  /** Longest silence allowed while waiting for headers or between body bytes; a stalled server is a failed request. */
  readTimeoutMs: number;
  /** A proxy for every request (http:// or https:// URL); null/undefined: HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment. */
  proxy?: string | null;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered, when redirects were followed (see redirects.ts): the last hop's, or the one asked for. */
  url?: string;
}

/** Why and until when a request is held back before it is sent (until: ms epoch, null when it depends on other requests). */
export interface RequestWait {
  reason: 'budget' | 'cooldown' | 'connections';
  until: number | null;
  endpoint: string;
}

export interface GetOptions {
  signal?: AbortSignal;
  followRedirects?: boolean;
  onWait?: (wait: RequestWait | null) => void;
}

export interface HttpClient {
  /**
   * `followRedirects` only for plain URLs: a redirect would carry the Files API key to whatever host it names. The
   * response then says which URL answered (`url`), so a download can send its next requests there directly.
   * `onWait` hears when a traffic-controlled client holds the request back (budget, cool-down, connections) and null when it goes.
   */
  get(url: string, headers: Record<string, string>, options?: GetOptions): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** The user agent Filehaul announces; servers and proxies see who is asking. */
export const USER_AGENT = 'Filehaul/0.1 (+https://github.com/filehaul)';

export function createHttpClient(settings: HttpSettings, env: NodeJS.ProcessEnv = process.env): HttpClient {
  const agentOptions = {
    connect: { timeout: settings.connectTimeoutMs },
    headersTimeout: settings.readTimeoutMs,
    bodyTimeout: settings.readTimeoutMs,
    // Connections are reused across segments and small files: every new TLS handshake costs time, not requests.
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    // HTTP/1.1 only. undici offers HTTP/2 by default, and most HTTPS servers and CDNs take it: every segment of a
    // file then shares one TCP connection (one congestion window, one per-connection limit at the server), which
    // is what --connections exists to get past. Against an HTTP/2 server the ranges also drew
    // ENHANCE_YOUR_CALM stream resets and retries (https-origin.test.ts).
    allowH2: false,
  };
  const agent = createDispatcher(agentOptions, settings.proxy ?? null, env);
  const request = undiciModules.request();
  return {
    async get(url, headers, options = {}) {
      const once: SendOnce = async (target, sent) => {
        const { origin, pathname, search } = new URL(target);
        const response = await request.call(agent, {
          origin,
          path: `${pathname}${search}`,
          method: 'GET',
          headers: { 'user-agent': USER_AGENT, ...sent },
          signal: options.signal,
        });
        return { status: response.statusCode, headers: response.headers as HttpResponse['headers'], body: response.body };
      };
      // Followed here, hop by hop, rather than by undici's interceptor: only this way is the final URL known.
      return options.followRedirects ? followRedirects(url, headers, once) : once(url, headers);
    },
    async close() {
      await agent.close().catch(() => agent.destroy());
    },
  };
}

/**
 * Many users reach the API only through a proxy. An explicit --proxy wins; otherwise the usual environment
 * variables decide (NO_PROXY still exempts hosts). Plain http targets are forwarded, https ones tunnelled (CONNECT).
 */
function createDispatcher(options: AgentType.Options, proxy: string | null, env: NodeJS.ProcessEnv): Dispatcher {
  const noProxy = env.NO_PROXY ?? env.no_proxy;
  if (proxy) return new (undiciModules.envHttpProxyAgent())({ ...options, httpProxy: proxy, httpsProxy: proxy, noProxy: noProxy ?? '' });
  const fromEnv = env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy;
  if (fromEnv) {
    return new (undiciModules.envHttpProxyAgent())({
      ...options,
      httpProxy: env.HTTP_PROXY ?? env.http_proxy ?? undefined,
      httpsProxy: env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy ?? undefined,
      noProxy: noProxy ?? '',
    });
  }
  return new (undiciModules.agent())(options);
}

/**
 * Drops a response body we will not read. undici's body raises an AbortError when destroyed, and one with no
 * listener would crash the process, so a no-op listener goes on first.
 */
export function discardBody(body: HttpResponse['body']): void {
  if (body.destroyed) return;
  body.on('error', () => {});
  body.destroy();
}
