// The hand-made redirect follower: where Locations lead, how many hops, what it refuses and which headers cross origins.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../src/main/engine/http/client.ts';
import { followRedirects, MAX_REDIRECTS, type SendOnce } from '../../src/main/engine/http/redirects.ts';
import { FatalError } from '../../src/main/engine/errors.ts';

/** A body like undici's, as far as the follower uses it; `dumped` tells whether it was read off. */
function body(): HttpResponse['body'] & { dumped: boolean } {
  const stream = Readable.from([]) as unknown as HttpResponse['body'] & { dumped: boolean };
  stream.dumped = false;
  stream.dump = async () => {
    stream.dumped = true;
  };
  return stream;
}

/** A server as a table: URL → [status, Location]; anything else answers 200. Records what was sent. */
function fakeServer(routes: Record<string, [number, string | undefined]>) {
  const sent: { url: string; headers: Record<string, string>; body: ReturnType<typeof body> }[] = [];
  const send: SendOnce = async (url, headers) => {
    const [status, location] = routes[url] ?? [200, undefined];
    const answer = { status, headers: location === undefined ? {} : { location }, body: body() };
    sent.push({ url, headers, body: answer.body });
    return answer;
  };
  return { send, sent };
}

describe('followRedirects', () => {
  it('resolves relative, absolute-path and scheme-relative Locations against the URL that sent them, and reports the last', async () => {
    const { send, sent } = fakeServer({
      'https://a.example/dl/v1/file?x=1': [302, '../v2/file?y=2#frag'],
      'https://a.example/dl/v2/file?y=2': [301, '/abs/file'],
      'https://a.example/abs/file': [307, '//b.example/signed?sig=abc'],
      'https://b.example/signed?sig=abc': [308, 'https://c.example:8443/final?sig=def'],
    });
    const response = await followRedirects('https://a.example/dl/v1/file?x=1', {}, send);
    expect(sent.map((entry) => entry.url)).toEqual(['https://a.example/dl/v1/file?x=1', 'https://a.example/dl/v2/file?y=2', 'https://a.example/abs/file', 'https://b.example/signed?sig=abc', 'https://c.example:8443/final?sig=def']);
    expect(response.status).toBe(200);
    expect(response.url).toBe('https://c.example:8443/final?sig=def');
    // Each 3xx body was read off, the answer's was left to the caller.
    expect(sent.map((entry) => entry.body.dumped)).toEqual([true, true, true, true, false]);
  });

  it('reports the URL asked for when nothing redirects, and gives back a 3xx without a Location as the answer', async () => {
    const { send } = fakeServer({ 'http://a.example/nowhere': [302, undefined] });
    expect((await followRedirects('http://a.example/file', {}, send)).url).toBe('http://a.example/file');
    const stuck = await followRedirects('http://a.example/nowhere', {}, send);
    expect([stuck.status, stuck.url]).toEqual([302, 'http://a.example/nowhere']);
  });

  it(`follows ${MAX_REDIRECTS} redirects and refuses the next, naming where the chain began without its query`, async () => {
    const routes: Record<string, [number, string]> = {};
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) routes[`http://a.example/r${hop}?token=secret`] = [302, `/r${hop + 1}?token=secret`];
    const five = fakeServer({ ...routes, [`http://a.example/r${MAX_REDIRECTS}?token=secret`]: [200, undefined] });
    expect((await followRedirects('http://a.example/r0?token=secret', {}, five.send)).url).toBe(`http://a.example/r${MAX_REDIRECTS}?token=secret`);
    expect(five.sent).toHaveLength(MAX_REDIRECTS + 1);

    const six = fakeServer(routes);
    const error = await followRedirects('http://a.example/r0?token=secret', {}, six.send).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toBe('too many redirects: http://a.example/r0 redirected more than 5 times (the last hop pointed to http://a.example/r6)');
    expect(six.sent).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('refuses a redirect from https to plain http, and one to a scheme other than http(s); allows http to https', async () => {
    const { send, sent } = fakeServer({
      'https://a.example/file': [302, 'http://mirror.example/file?sig=1'],
      'https://a.example/ftp': [302, 'ftp://mirror.example/file'],
      'http://a.example/up': [302, 'https://a.example/file2'],
    });
    await expect(followRedirects('https://a.example/file', {}, send)).rejects.toThrow(
      new FatalError('refused a redirect from https to plain http (https://a.example/file pointed to http://mirror.example/file): give the http:// URL directly to download it without TLS'),
    );
    await expect(followRedirects('https://a.example/ftp', {}, send)).rejects.toThrow('redirected to a ftp: URL; only http and https are followed');
    expect((await followRedirects('http://a.example/up', {}, send)).url).toBe('https://a.example/file2');
    // Nothing was sent to the refused targets.
    expect(sent.map((entry) => entry.url)).toEqual(['https://a.example/file', 'https://a.example/ftp', 'http://a.example/up', 'https://a.example/file2']);
  });

  it('drops credentials (any letter case) on a hop to another origin, for the rest of the chain; keeps them within one', async () => {
    const { send, sent } = fakeServer({
      'https://a.example/1': [302, '/2'],
      'https://a.example/2': [302, 'https://a.example:8443/3'],
      'https://a.example:8443/3': [302, 'https://a.example/4'],
    });
    const headers = { Authorization: 'Bearer t', cookie: 'c=1', 'Proxy-Authorization': 'Basic p', 'X-Api-Key': 'sk-ant-k', range: 'bytes=0-', 'x-trace': 'kept' };
    await followRedirects('https://a.example/1', headers, send);
    expect(sent.map((entry) => Object.keys(entry.headers))).toEqual([
      Object.keys(headers),
      Object.keys(headers),
      // Another port is another origin; coming back does not bring the credentials back.
      ['range', 'x-trace'],
      ['range', 'x-trace'],
    ]);
  });
});
