// Follows a plain URL's redirects hop by hop, so the caller learns the URL the chain ended at (undici's interceptor keeps it to itself).
import { FatalError } from '../errors.ts';
import { publicUrl } from '../traffic/request-labels.ts';
import type { HttpResponse } from './client.ts';
import { headerValue } from './retry-policy.ts';

/** Redirects followed for one request at most, as undici's interceptor was set to: a chain this long is a loop or a trap. */
export const MAX_REDIRECTS = 5;

/** The statuses undici's interceptor follows (300 only with a Location: the server's preferred choice). */
const REDIRECT_STATUSES = new Set([300, 301, 302, 303, 307, 308]);

/**
 * Request headers that must not reach another origin: the user's credentials for the first one. The same three
 * undici strips on a cross-origin hop, plus the Files API key (Files API requests never follow redirects; this is in
 * case one ever does).
 */
const CROSS_ORIGIN_SECRETS = new Set(['authorization', 'cookie', 'proxy-authorization', 'x-api-key']);

/** A 3xx body says nothing we use; up to this much is read off so the connection can be reused, a larger one is cut. */
const REDIRECT_BODY_LIMIT = 64 * 1024;

/** Sends one request to `url` with exactly `headers`, redirects not followed. */
export type SendOnce = (url: string, headers: Record<string, string>) => Promise<HttpResponse>;

/**
 * Sends a GET and follows up to MAX_REDIRECTS redirects. The response carries `url`, the URL that answered.
 * - A relative Location resolves against the URL that sent it. 303 needs no special case: we only ever GET.
 * - On a hop to another origin, CROSS_ORIGIN_SECRETS are dropped for the rest of the chain.
 * - An https URL that redirects to plain http is refused (FatalError): the bytes would come unauthenticated from
 *   anyone on the path, while the user asked for TLS. Chrome blocks such "mixed content" downloads too. Whoever trusts
 *   the http URL can give it directly.
 * - Only http and https Locations are followed.
 */
export async function followRedirects(url: string, headers: Record<string, string>, send: SendOnce): Promise<HttpResponse> {
  let current = new URL(url);
  let sent = headers;
  for (let hops = 0; ; hops++) {
    const response = await send(current.href, sent);
    const location = REDIRECT_STATUSES.has(response.status) ? headerValue(response.headers.location) : null;
    // A 3xx without a Location has nowhere to go: it is the answer, as with undici.
    if (!location) return { ...response, url: current.href };
    dropRedirectBody(response.body);
    const next = redirectTarget(location, current);
    if (hops === MAX_REDIRECTS) {
      throw new FatalError(`too many redirects: ${publicUrl(url)} redirected more than ${MAX_REDIRECTS} times (the last hop pointed to ${publicUrl(next.href)})`);
    }
    if (current.protocol === 'https:' && next.protocol === 'http:') {
      throw new FatalError(`refused a redirect from https to plain http (${publicUrl(current.href)} pointed to ${publicUrl(next.href)}): give the http:// URL directly to download it without TLS`);
    }
    if (next.origin !== current.origin) sent = withoutCrossOriginSecrets(sent);
    current = next;
  }
}

/** The headers without the ones that must not cross to another origin (any letter case). */
export function withoutCrossOriginSecrets(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CROSS_ORIGIN_SECRETS.has(name.toLowerCase())));
}

/** Where a Location points, resolved against the URL that answered; the fragment is not sent, so it is dropped. */
function redirectTarget(location: string, base: URL): URL {
  let next: URL;
  try {
    next = new URL(location, base);
  } catch {
    throw new FatalError(`${publicUrl(base.href)} redirected to an invalid URL`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new FatalError(`${publicUrl(base.href)} redirected to a ${next.protocol} URL; only http and https are followed`);
  }
  next.hash = '';
  return next;
}

/**
 * Reads a small 3xx body off (the connection stays reusable) without waiting for it: a larger one is cut, a stalled one
 * ends with the read timeout, and neither holds up the next hop.
 */
function dropRedirectBody(body: HttpResponse['body']): void {
  body.dump({ limit: REDIRECT_BODY_LIMIT }).catch(() => {});
}
