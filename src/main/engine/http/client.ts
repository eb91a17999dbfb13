// The HTTP client every request goes through: one undici Agent with keep-alive and the configured timeouts.
import { Agent, interceptors, request, type Dispatcher } from 'undici';

export interface HttpSettings {
  /** Time to establish a TCP/TLS connection. */
  connectTimeoutMs: number;
  /** Longest silence allowed while waiting for headers or between body bytes; a stalled server is a failed request. */
  readTimeoutMs: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export interface HttpClient {
  /** `followRedirects` only for plain URLs: a redirect would carry the Files API key to whatever host it names. */
  get(url: string, headers: Record<string, string>, options?: { signal?: AbortSignal; followRedirects?: boolean }): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** The user agent Filehaul announces; servers and proxies see who is asking. */
export const USER_AGENT = 'Filehaul/0.1 (+https://github.com/filehaul)';

export function createHttpClient(settings: HttpSettings): HttpClient {
  const agent = new Agent({
    connect: { timeout: settings.connectTimeoutMs },
    headersTimeout: settings.readTimeoutMs,
    bodyTimeout: settings.readTimeoutMs,
    // Connections are reused across segments and small files: every new TLS handshake costs time, not requests.
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
  });
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
 * Drops a response body we will not read. undici's body raises an AbortError when destroyed, and one with no
 * listener would crash the process, so a no-op listener goes on first.
 */
export function discardBody(body: HttpResponse['body']): void {
  if (body.destroyed) return;
  body.on('error', () => {});
  body.destroy();
}
