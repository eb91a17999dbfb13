// A plain http(s) URL as a source: everything (size, validators, name) is learned from the first content response.
import { basename } from 'node:path/posix';
import { FatalError } from '../engine/errors.ts';
import type { HttpResponse } from '../engine/http/client.ts';
import { headerValue } from '../engine/http/retry-policy.ts';
import type { DownloadSource, SourceDetails } from '../engine/source.ts';

/** The URL without credentials or query string: query strings often carry signatures and tokens. */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}

export function parseDownloadUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FatalError(`"${text.slice(0, 120)}" is neither a file id nor a valid URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FatalError(`Only http:// and https:// URLs can be downloaded (got ${url.protocol}).`);
  return url;
}

export class UrlSource implements DownloadSource {
  readonly kind = 'url' as const;
  readonly ref: string;
  readonly apiBase = null;
  readonly displayName: string;
  readonly #url: URL;

  constructor(text: string) {
    this.#url = parseDownloadUrl(text);
    this.ref = this.#url.href;
    this.displayName = displayUrl(this.#url);
  }

  async describe(): Promise<null> {
    return null;
  }

  contentRequest() {
    return { url: this.#url.href, headers: {}, followRedirects: true };
  }

  detailsFromResponse(response: HttpResponse): Partial<SourceDetails> {
    const disposition = headerValue(response.headers['content-disposition']);
    const type = headerValue(response.headers['content-type']);
    return {
      filename: filenameFromDisposition(disposition) ?? nameAfterRedirects(this.#url, response.url),
      mimeType: type ? type.split(';')[0].trim().slice(0, 255) || null : null,
    };
  }
}

/**
 * The name a URL's path gives a file when no Content-Disposition does. After redirects two paths offer one, and
 * neither is always right: a signed CDN URL often ends in an opaque key (keep the link's `tool-1.2.tar.gz`), while a
 * link like `/download/latest` ends in no file name at all (take the `tool-1.2.tar.gz` it redirected to). So the
 * URL that answered wins only where the link's own name is missing or has no extension and the answer's has one.
 */
export function nameAfterRedirects(link: URL, answeredBy: string | undefined): string | null {
  const own = nameFromPath(link);
  if (!answeredBy || answeredBy === link.href) return own;
  let answered: string | null;
  try {
    answered = nameFromPath(new URL(answeredBy));
  } catch {
    return own;
  }
  const hasExtension = (name: string | null) => name !== null && /\.[^.]+$/.test(name) && !name.startsWith('.');
  if (answered !== null && hasExtension(answered) && !hasExtension(own)) return answered;
  return own ?? answered;
}

/** The last segment of a URL's path, decoded where it decodes; null when the path ends in `/`. */
function nameFromPath(url: URL): string | null {
  try {
    return decodeURIComponent(basename(url.pathname)) || null;
  } catch {
    return basename(url.pathname) || null;
  }
}

/** The file name a Content-Disposition header offers: RFC 6266 `filename*` (UTF-8) wins over plain `filename`. */
export function filenameFromDisposition(header: string | null): string | null {
  if (!header) return null;
  const extended = /filename\*\s*=\s*([^;]+)/i.exec(header);
  if (extended) {
    const value = extended[1].trim().replace(/^"(.*)"$/, '$1');
    const match = /^([\w-]+)'[^']*'(.*)$/.exec(value);
    if (match) {
      try {
        return decodeURIComponent(match[2]) || null;
      } catch {
        // Fall through to the plain parameter.
      }
    }
  }
  const plain = /filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i.exec(header);
  if (!plain) return null;
  const value = plain[2] !== undefined ? plain[2].replace(/\\(.)/g, '$1') : plain[1].trim();
  return value || null;
}
