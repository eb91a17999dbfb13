// countBodyBytes on real streams: a real undici response body and a PassThrough, counted without being read early.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpResponse } from '../../src/main/engine/http/client.ts';
import { countBodyBytes } from '../../src/main/engine/traffic/request-labels.ts';

const body = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function drain(stream: HttpResponse['body']): Promise<number> {
  let read = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) read += chunk.length;
  return read;
}

describe('countBodyBytes', () => {
  it('counts every byte of an undici body, the ones that came with the headers too, and the reader still gets them all', async () => {
    const client = createHttpClient({ connectTimeoutMs: 5000, readTimeoutMs: 5000 }, {});
    try {
      const response = await client.get(url, {});
      // undici pushes what arrived with the headers (one 64 KiB read) before the request's promise resolves.
      expect(response.body.readableLength).toBeGreaterThan(0);
      const received = countBodyBytes(response.body);
      expect(await drain(response.body)).toBe(body.length);
      expect(received()).toBe(body.length);
    } finally {
      await client.close();
    }
  });

  it('counts what was buffered before it was called and what is pushed after, strings by their encoded length', async () => {
    const stream = new PassThrough();
    stream.write(Buffer.alloc(500));
    const received = countBodyBytes(stream as unknown as HttpResponse['body']);
    stream.write('héllo'); // 6 bytes in UTF-8
    stream.end(Buffer.alloc(100));
    expect(await drain(stream as unknown as HttpResponse['body'])).toBe(606);
    expect(received()).toBe(606);
  });

  it('counts only what arrived of a body dropped early', async () => {
    const stream = new PassThrough();
    const received = countBodyBytes(stream as unknown as HttpResponse['body']);
    stream.write(Buffer.alloc(1000));
    stream.destroy();
    expect(received()).toBe(1000);
  });
});
