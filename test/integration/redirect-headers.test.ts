// Credentials and redirects against real servers: a cross-origin hop drops them, the remembered URL never gets them, and a Files API request never follows.
import { afterEach, describe, expect, it } from 'vitest';
import { ContentTarget } from '../../src/main/engine/content-target.ts';
import { createHttpClient, type HttpClient } from '../../src/main/engine/http/client.ts';
import type { DownloadSource } from '../../src/main/engine/source.ts';
import { makeBytes } from '../fixtures/make-bytes.ts';
import { FILE_PATH, startRedirectOrigin, type RedirectOrigin } from '../fixtures/redirect-origin.ts';

const CREDENTIALS = { authorization: 'Bearer user-token', cookie: 'session=1', 'proxy-authorization': 'Basic cHJveHk=' };
let closing: (RedirectOrigin | HttpClient)[] = [];

afterEach(async () => {
  await Promise.all(closing.map((thing) => thing.close()));
  closing = [];
});

/** A link on one server that redirects through a same-origin hop to a signed URL on another (the CDN). */
async function linkAndCdn(): Promise<{ link: RedirectOrigin; cdn: RedirectOrigin; http: HttpClient }> {
  const link = await startRedirectOrigin();
  const cdn = await startRedirectOrigin();
  const http = createHttpClient({ connectTimeoutMs: 5_000, readTimeoutMs: 5_000 }, {});
  closing.push(link, cdn, http);
  cdn.setFile(makeBytes(4096, 21));
  link.redirect('/start', () => '/same');
  link.redirect('/same', () => cdn.signedUrl());
  return { link, cdn, http };
}

/** A source as the engine sees one, with request headers of its own (a plain URL has none today; this is the guard). */
function sourceFor(url: string, headers: Record<string, string>, followRedirects: boolean): DownloadSource {
  return {
    kind: followRedirects ? 'url' : 'files-api',
    ref: url,
    apiBase: null,
    displayName: url,
    describe: async () => null,
    contentRequest: () => ({ url, headers, followRedirects }),
    detailsFromResponse: () => ({}),
  };
}

describe('credentials across redirects', () => {
  it('a cross-origin hop drops authorization, cookie and proxy-authorization; the same-origin hop before it keeps them', async () => {
    const { link, cdn, http } = await linkAndCdn();
    const response = await http.get(`${link.url}/start`, { ...CREDENTIALS, 'x-trace': 'kept', range: 'bytes=0-99' }, { followRedirects: true });
    expect(response.status).toBe(206);
    expect((await response.body.arrayBuffer()).byteLength).toBe(100);
    expect(response.url).toBe(`${cdn.url}${FILE_PATH}?sig=s1&expires=1`);
    const [start, same] = link.requests;
    for (const hop of [start, same]) expect(hop.headers).toMatchObject({ ...CREDENTIALS, 'x-trace': 'kept' });
    const [file] = cdn.requests;
    for (const name of Object.keys(CREDENTIALS)) expect(file.headers[name]).toBeUndefined();
    expect(file.headers).toMatchObject({ 'x-trace': 'kept', range: 'bytes=0-99' });
  });

  it('requests to a remembered URL on another origin carry none of the source credentials either', async () => {
    const { link, cdn, http } = await linkAndCdn();
    const target = new ContentTarget(sourceFor(`${link.url}/start`, { ...CREDENTIALS, 'x-trace': 'kept' }, true));
    const signal = new AbortController().signal;
    for (const range of ['bytes=0-', 'bytes=100-199', 'bytes=200-299']) {
      const response = await target.get(http, { range }, { signal });
      expect(response.status).toBe(206);
      await response.body.dump();
    }
    // The link was followed once; the two later ranges went straight to the CDN.
    expect(link.requests.map((entry) => entry.pathname)).toEqual(['/start', '/same']);
    expect(target.url).toBe(`${cdn.url}${FILE_PATH}?sig=s1&expires=1`);
    expect(cdn.requests.map((entry) => entry.range)).toEqual(['bytes=0-', 'bytes=100-199', 'bytes=200-299']);
    for (const request of cdn.requests) {
      for (const name of Object.keys(CREDENTIALS)) expect(request.headers[name]).toBeUndefined();
      expect(request.headers['x-trace']).toBe('kept');
    }
  });

  it('a Files API source never follows a redirect: the 302 is its answer and nothing is remembered', async () => {
    const { link, cdn, http } = await linkAndCdn();
    const target = new ContentTarget(sourceFor(`${link.url}/start`, { 'x-api-key': 'sk-ant-never-elsewhere' }, false));
    const signal = new AbortController().signal;
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await target.get(http, { range: 'bytes=0-' }, { signal });
      expect(response.status).toBe(302);
      await response.body.dump();
    }
    expect(link.requests.map((entry) => entry.pathname)).toEqual(['/start', '/start']);
    expect(cdn.requests).toEqual([]);
    expect(target.url).toBe(`${link.url}/start`);
  });
});
