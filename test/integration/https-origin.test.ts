// Downloads over HTTPS from an origin that also speaks HTTP/2: every segment on its own HTTP/1.1 connection.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBytes } from '../fixtures/make-bytes.ts';
import { decideRange } from '../fixtures/http-range.ts';
import { killLeftoverChildren, makeTempDir, runCli, sha256, sha256File } from './run-cli.ts';

/** A self-signed certificate for 127.0.0.1, made for these tests only (valid to 2126); its key guards nothing. */
const CERT_FILE = new URL('../fixtures/tls/localhost-cert.pem', import.meta.url);
const KEY_FILE = new URL('../fixtures/tls/localhost-key.pem', import.meta.url);

const body = makeBytes(8 * 1024 * 1024, 5);
const seen: { httpVersion: string; range: string | undefined; port: number | undefined }[] = [];
let server: http2.Http2SecureServer;
let base: string;

beforeAll(async () => {
  // Like most HTTPS servers and CDNs, this one offers HTTP/2 and HTTP/1.1 and prefers HTTP/2 when the client offers it.
  server = http2.createSecureServer({ key: readFileSync(KEY_FILE), cert: readFileSync(CERT_FILE), allowHTTP1: true }, (req, res) => {
    seen.push({ httpVersion: req.httpVersion, range: req.headers.range, port: req.socket.remotePort });
    const range = decideRange(req.headers.range, body.length);
    const headers = { etag: '"v1"', 'accept-ranges': 'bytes' };
    if (range.type === 'range') {
      res.writeHead(206, { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${body.length}`, 'content-length': String(range.end - range.start + 1) });
      res.end(body.subarray(range.start, range.end + 1));
    } else {
      res.writeHead(200, { ...headers, 'content-length': String(body.length) });
      res.end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(killLeftoverChildren);

describe('an HTTPS origin that offers HTTP/2', () => {
  it('is fetched over HTTP/1.1, one TCP connection per segment, with no retries', async () => {
    // Over HTTP/2 all segments would share one TCP connection (one congestion window, one per-connection limit at
    // the server): what --connections is for would be lost.
    const { dir, remove } = await makeTempDir();
    try {
      const result = await runCli(['get', `${base}/big.bin`, '--dir', dir, '--connections', '4', '--json'], { env: { NODE_EXTRA_CA_CERTS: CERT_FILE.pathname } });
      expect(result.stderrLines).toEqual([]);
      expect(result.code).toBe(0);
      const done = result.events.find((event) => event.event === 'done')!;
      expect(done.sha256).toBe(sha256(body));
      expect(await sha256File(`${dir}/${done.path as string}`)).toBe(sha256(body));
      expect(result.events.filter((event) => event.event === 'retry')).toEqual([]);
      expect(seen.map((request) => request.httpVersion)).toEqual(seen.map(() => '1.1'));
      // At least one connection per segment. Under load a connection that ends early may split a range that has not
      // started yet and take its second half on one more connection.
      expect(seen.length).toBeGreaterThanOrEqual(4);
      expect(new Set(seen.map((request) => request.port)).size).toBeGreaterThanOrEqual(4);
    } finally {
      await remove();
    }
  });
});
