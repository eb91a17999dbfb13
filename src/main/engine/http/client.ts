// The HTTP client every request goes through: one undici Agent with keep-alive and the configured timeouts.
import { Agent, EnvHttpProxyAgent, interceptors, request, type Dispatcher } from 'undici';

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
   * `followRedirects` only for plain URLs: a redirect would carry the Files API key to whatever host it names.
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
  };
  const agent = createDispatcher(agentOptions, settings.proxy ?? null, env);
  const redirecting = agent.compose(interceptors.redirect({ maxRedirections: 5 }));
  return {
    async get(url, headers, options = {}) {
      const response = await request(url, {
        method: 'GET',
        headers: { 'user-agent': USER_AGENT, ...headers },
        signal: options.signal,
        dispatcher: options.followRedirects ? redirecting : agent,
      });
      return { status: response.statusCode, headers: response.headers as HttpResponse['headers'], body: response.body };
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
function createDispatcher(options: Agent.Options, proxy: string | null, env: NodeJS.ProcessEnv): Dispatcher {
  const noProxy = env.NO_PROXY ?? env.no_proxy;
  if (proxy) return new EnvHttpProxyAgent({ ...options, httpProxy: proxy, httpsProxy: proxy, noProxy: noProxy ?? '' });
  const fromEnv = env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy;
  if (fromEnv) {
    return new EnvHttpProxyAgent({
      ...options,
      httpProxy: env.HTTP_PROXY ?? env.http_proxy ?? undefined,
      httpsProxy: env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy ?? undefined,
      noProxy: noProxy ?? '',
    });
  }
  return new Agent(options);
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
