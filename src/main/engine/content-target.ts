// Where one download run sends its content requests: the source's URL, or straight to where its redirects ended last time.
import { discardBody, type HttpClient, type HttpResponse, type RequestWait } from './http/client.ts';
import { withoutCrossOriginSecrets } from './http/redirects.ts';
import type { DownloadSource } from './source.ts';

/** Where the source's redirects ended, and whether that is another origin (its credentials then stay behind). */
interface Remembered {
  url: string;
  crossOrigin: boolean;
}

/**
 * A plain URL that redirects (a release link that 302s to a signed CDN URL) would otherwise be followed again by every
 * range request of the file: one more round trip each, and load on the redirecting host. So the URL a followed chain
 * ended at is remembered, and the run's next requests go there directly. Only for the run, in memory: signed URLs
 * expire, and the source's URL is the one that stays valid.
 * The remembered URL is an optimisation and must never fail a download the source's URL would still serve: when it
 * answers 401/403/404/410 (signature expired, revoked, moved), redirects (the chain changed), or cannot be reached at
 * all, it is forgotten and the same request goes once more through the source's URL, which redirects afresh; only that
 * answer counts (for retries and for validation, which is the same for both).
 */
export class ContentTarget {
  readonly #source: DownloadSource;
  #remembered: Remembered | null = null;

  constructor(source: DownloadSource) {
    this.#source = source;
  }

  /** Where the next content request goes: the endpoint whose connection allowance applies to the download now. */
  get url(): string {
    return this.#remembered?.url ?? this.#source.contentRequest().url;
  }

  /** Starts again from the source's URL: a restart (the file changed) learns where the link points anew. */
  forget(): void {
    this.#remembered = null;
  }

  /** Sends one content request with `headers` (Range, If-Range) on top of the source's own. */
  async get(http: HttpClient, headers: Record<string, string>, options: { signal: AbortSignal; onWait?: (wait: RequestWait | null) => void }): Promise<HttpResponse> {
    const target = this.#source.contentRequest();
    const remembered = this.#remembered;
    if (remembered) {
      const sent = { ...(remembered.crossOrigin ? withoutCrossOriginSecrets(target.headers) : target.headers), ...headers };
      try {
        // Not followed: a remembered URL that now redirects no longer ends the chain, and the source's URL knows where it does.
        const response = await http.get(remembered.url, sent, { signal: options.signal, followRedirects: false, onWait: options.onWait });
        if (!isStale(response.status)) return response;
        discardBody(response.body);
      } catch (error) {
        // A pause or a dropped hedge is no news about the URL.
        if (options.signal.aborted) throw error;
      }
      // Another request may have learned a fresher URL meanwhile: that one stays.
      if (this.#remembered === remembered) this.#remembered = null;
    }
    const response = await http.get(target.url, { ...target.headers, ...headers }, { signal: options.signal, followRedirects: target.followRedirects, onWait: options.onWait });
    // Learned only from content (2xx): a chain that ends in an error is asked again from the start, as before.
    if (target.followRedirects && response.url !== undefined && response.status >= 200 && response.status < 300) {
      this.#remembered = response.url === target.url ? null : { url: response.url, crossOrigin: new URL(response.url).origin !== new URL(target.url).origin };
    }
    return response;
  }
}

/** Answers that say the remembered URL no longer serves this run (see ContentTarget). */
function isStale(status: number): boolean {
  return status === 401 || status === 403 || status === 404 || status === 410 || (status >= 300 && status < 400);
}
