// Self-test of the Files API test origin (test/fixtures/files-api-origin.ts): routes, ranges, validators, faults, paging, auth.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { makeBytes, startOrigin } from '../fixtures/files-api-origin.ts';
import type { Origin, OriginFile } from '../fixtures/files-api-origin.ts';

const SIZE = 100_000;
const FILE: OriginFile = {
  id: 'file_011CNha8iCJcU1wXNR6q4V8w',
  filename: 'report.csv',
  bytes: makeBytes(SIZE, 7),
  createdAt: '2025-05-01T10:00:00Z',
  mimeType: 'text/csv',
};

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function get(origin: Origin, path: string, headers: Record<string, string> = {}, dispatcher?: Dispatcher): Promise<Got> {
  const res = await request(`${origin.url}${path}`, { headers, dispatcher });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

/** Reads a body until it breaks; returns how many bytes arrived and the error, if any. */
async function readUntilError(origin: Origin, path: string, signal?: AbortSignal): Promise<{ received: number; error?: unknown }> {
  let received = 0;
  try {
    const res = await request(`${origin.url}${path}`, { signal });
    for await (const chunk of res.body) received += (chunk as Buffer).length;
    return { received };
  } catch (error) {
    return { received, error };
  }
}

function ended(origin: Origin, fault: string) {
  return origin.waitForRequest((e) => e.fault === fault && e.endedAt !== undefined);
}

let origin: Origin;
beforeEach(async () => {
  origin = await startOrigin({ files: [FILE] });
});
afterEach(async () => {
  await origin.close();
});

describe('routes', () => {
  it('serves metadata and an Anthropic-shaped 404', async () => {
    const meta = await get(origin, `/v1/files/${FILE.id}`);
    expect(meta.status).toBe(200);
    expect(meta.headers['request-id']).toMatch(/^req_\w+$/);
    expect(JSON.parse(meta.body.toString())).toEqual({
      id: FILE.id, type: 'file', filename: 'report.csv', mime_type: 'text/csv',
      size_bytes: SIZE, created_at: FILE.createdAt, downloadable: true,
    });
    const missing = await get(origin, '/v1/files/file_nope/content');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/octet-stream');
    const body = JSON.parse(missing.body.toString());
    expect(body).toEqual({ type: 'error', error: { type: 'not_found_error', message: 'File not found: file_nope' }, request_id: missing.headers['request-id'] });
  });

  it('serves full and ranged content with validators', async () => {
    const full = await get(origin, `/v1/files/${FILE.id}/content`);
    expect(full.status).toBe(200);
    expect(full.body.equals(FILE.bytes)).toBe(true);
    expect(full.headers['content-length']).toBe(String(SIZE));
    expect(full.headers['accept-ranges']).toBe('bytes');
    expect(full.headers.etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(full.headers['last-modified']).toBe('Thu, 01 May 2025 10:00:00 GMT');

    const mid = await get(origin, `/v1/files/${FILE.id}/content`, { range: 'bytes=100-199' });
    expect(mid.status).toBe(206);
    expect(mid.headers['content-range']).toBe(`bytes 100-199/${SIZE}`);
    expect(mid.body.equals(FILE.bytes.subarray(100, 200))).toBe(true);

    const open = await get(origin, `/v1/files/${FILE.id}/content`, { range: `bytes=${SIZE - 10}-` });
    expect(open.headers['content-range']).toBe(`bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`);
    expect(open.body.equals(FILE.bytes.subarray(SIZE - 10))).toBe(true);

    const bad = await get(origin, `/v1/files/${FILE.id}/content`, { range: `bytes=${SIZE}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${SIZE}`);
  });

  it('honours If-Range only when the validator matches', async () => {
    const { etag, lastModified } = origin.getFile(FILE.id);
    const path = `/v1/files/${FILE.id}/content`;
    expect((await get(origin, path, { range: 'bytes=0-9', 'if-range': etag! })).status).toBe(206);
    expect((await get(origin, path, { range: 'bytes=0-9', 'if-range': lastModified! })).status).toBe(206);
    const stale = await get(origin, path, { range: 'bytes=0-9', 'if-range': '"0000"' });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(FILE.bytes)).toBe(true);
    expect((await get(origin, path, { range: 'bytes=0-9', 'if-range': `W/${etag}` })).status).toBe(200);
  });

  it('refuses non-downloadable files and serves /dl as a plain attachment', async () => {
    origin.addFile({ ...FILE, id: 'file_up', filename: 'naïve résumé.pdf', downloadable: false });
    const refused = await get(origin, '/v1/files/file_up/content');
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body.toString()).error).toEqual({ type: 'invalid_request_error', message: 'File file_up is not downloadable' });
    const plain = await get(origin, '/dl/file_up', { range: 'bytes=5-' });
    expect(plain.status).toBe(206);
    expect(plain.headers['content-disposition']).toBe(
      `attachment; filename="na_ve r_sum_.pdf"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf`,
    );
    expect(plain.body.equals(FILE.bytes.subarray(5))).toBe(true);
  });

  it('requires the API key on /v1 routes only', async () => {
    const secured = await startOrigin({ apiKey: 'sk-test', files: [FILE] });
    try {
      const denied = await get(secured, `/v1/files/${FILE.id}`);
      expect(denied.status).toBe(401);
      expect(JSON.parse(denied.body.toString()).error.type).toBe('authentication_error');
      expect((await get(secured, `/v1/files/${FILE.id}`, { 'x-api-key': 'sk-test' })).status).toBe(200);
      expect((await get(secured, `/dl/${FILE.id}`)).status).toBe(200);
    } finally {
      await secured.close();
    }
  });

  it('keeps a connection alive across requests and logs its id', async () => {
    const agent = new Agent({ connections: 1 });
    try {
      await get(origin, `/v1/files/${FILE.id}`, {}, agent);
      await get(origin, `/v1/files/${FILE.id}/content`, { range: 'bytes=0-0' }, agent);
      const [a, b] = origin.requests;
      expect(a.connectionId).toBe(b.connectionId);
      const done = await origin.waitForRequest((e) => e === b && e.endedAt !== undefined);
      expect(done).toMatchObject({ kind: 'content', fileId: FILE.id, range: 'bytes=0-0', status: 206, bytesSent: 1, aborted: false });
    } finally {
      await agent.close();
    }
  });
});

describe('list', () => {
  const ids = ['f1', 'f2', 'f3', 'f4', 'f5'];
  const many = ids.map((id, i) => ({ ...FILE, id, createdAt: `2025-06-0${i + 1}T00:00:00Z` }));

  it('pages the beta shape newest first, both directions', async () => {
    const o = await startOrigin({ files: many });
    try {
      const page = async (q: string) => JSON.parse((await get(o, `/v1/files?${q}`)).body.toString());
      const p1 = await page('limit=2');
      expect(p1.data.map((f: { id: string }) => f.id)).toEqual(['f5', 'f4']);
      expect(p1).toMatchObject({ has_more: true, first_id: 'f5', last_id: 'f4' });
      const p3 = await page('limit=2&after_id=f2');
      expect(p3).toMatchObject({ has_more: false, first_id: 'f1', last_id: 'f1' });
      const back = await page('limit=2&before_id=f2');
      expect(back).toMatchObject({ has_more: true, first_id: 'f4', last_id: 'f3' });
      expect((await get(o, '/v1/files?limit=1001')).status).toBe(400);
    } finally {
      await o.close();
    }
  });

  it('pages the GA shape with an opaque cursor', async () => {
    const o = await startOrigin({ files: many, pageShape: 'ga' });
    try {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const got = await get(o, `/v1/files?limit=2${cursor ? `&page=${cursor}` : ''}`);
        const body = JSON.parse(got.body.toString());
        seen.push(...body.data.map((f: { id: string }) => f.id));
        cursor = body.next_page;
        if (cursor) expect(cursor).toMatch(/^page_/);
      } while (cursor);
      expect(seen).toEqual(['f5', 'f4', 'f3', 'f2', 'f1']);
      expect((await get(o, '/v1/files?page=page_bogus')).status).toBe(400);
    } finally {
      await o.close();
    }
  });
});

describe('faults', () => {
  const content = `/v1/files/${FILE.id}/content`;

  it('resets the connection after the given bytes', async () => {
    origin.injectFault({ kind: 'reset', afterBytes: 1000 });
    const { received, error } = await readUntilError(origin, content);
    expect(error).toBeDefined();
    expect(received).toBe(1000);
    const entry = await ended(origin, 'reset');
    expect(entry).toMatchObject({ status: 200, bytesSent: 1000, aborted: true });
    expect((await get(origin, content)).body.equals(FILE.bytes)).toBe(true); // count 1: the next one is fine
    origin.injectFault({ kind: 'reset', afterBytes: 0 });
    expect(await readUntilError(origin, content)).toMatchObject({ received: 0, error: expect.anything() });
  });

  it('answers 429 with retry-after, then cuts a body short, in order', async () => {
    origin.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '3' } });
    origin.injectFault({ kind: 'short-body', missingBytes: 10 });
    const limited = await get(origin, content);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('3');
    expect(JSON.parse(limited.body.toString()).error.type).toBe('rate_limit_error');
    const { received, error } = await readUntilError(origin, content);
    expect(received).toBe(SIZE - 10);
    expect(error).toBeDefined();
  });

  it('ignores Range, shifts Content-Range, and only hits matching requests', async () => {
    origin.injectFault({ kind: 'ignore-range' });
    expect((await get(origin, content, { range: 'bytes=10-19' })).status).toBe(200);
    origin.injectFault({ kind: 'wrong-content-range', shift: 5 });
    const shifted = await get(origin, content, { range: 'bytes=100-199' });
    expect(shifted.headers['content-range']).toBe(`bytes 105-204/${SIZE}`);
    expect(shifted.body.equals(FILE.bytes.subarray(105, 205))).toBe(true);
    origin.injectFault({ kind: 'status', status: 503 }, { match: (e) => e.kind === 'metadata' });
    expect((await get(origin, content)).status).toBe(200);
    expect((await get(origin, `/v1/files/${FILE.id}`)).status).toBe(503);
  });

  it('changes the file so a stale If-Range gets the whole new content', async () => {
    const before = origin.getFile(FILE.id);
    origin.injectFault({ kind: 'change-file' });
    const got = await get(origin, content, { range: 'bytes=0-99', 'if-range': before.etag! });
    const after = origin.getFile(FILE.id);
    expect(got.status).toBe(200);
    expect(after.etag).not.toBe(before.etag);
    expect(got.headers.etag).toBe(after.etag);
    expect(after.bytes.length).toBe(SIZE);
    expect(got.body.equals(after.bytes)).toBe(true);
    expect(got.body.equals(before.bytes)).toBe(false);
  });

  it('stalls and hangs until the client aborts or the origin closes', async () => {
    origin.injectFault({ kind: 'stall', afterBytes: 4096 });
    const abort = new AbortController();
    const stalled = readUntilError(origin, content, abort.signal);
    await origin.waitForBytesSent(FILE.id, 4096);
    abort.abort();
    expect((await stalled).error).toBeDefined();
    expect(await ended(origin, 'stall')).toMatchObject({ bytesSent: 4096, aborted: true });

    origin.injectFault({ kind: 'hang' });
    const hung = readUntilError(origin, content);
    await origin.waitForRequest((e) => e.fault === 'hang');
    await origin.close(); // must not wait for the hung response
    expect((await hung).error).toBeDefined();
    expect(await ended(origin, 'hang')).toMatchObject({ status: 0, bytesSent: 0, aborted: true });
  });

  it('draws random faults reproducibly from a seed', async () => {
    const run = async (): Promise<number[]> => {
      const o = await startOrigin({ files: [FILE] });
      o.setFaultRate(0.5, [{ kind: 'status', status: 503 }, { kind: 'status', status: 529 }], 42);
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) statuses.push((await get(o, `/dl/${FILE.id}`, { range: 'bytes=0-0' })).status);
      await o.close();
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
  });
});

describe('throughput', () => {
  it('throttles each response to roughly the configured rate', async () => {
    const rate = 1024 * 1024;
    const o = await startOrigin({ files: [{ ...FILE, bytes: makeBytes(384 * 1024) }], bytesPerSecondPerConnection: rate });
    try {
      const started = performance.now();
      const got = await get(o, `/v1/files/${FILE.id}/content`);
      const seconds = (performance.now() - started) / 1000;
      expect(got.body.length).toBe(384 * 1024);
      expect(got.body.length / seconds).toBeLessThan(rate * 1.5);
    } finally {
      await o.close();
    }
  });

  it('streams a 64 MiB file quickly', async () => {
    const big = makeBytes(64 * 1024 * 1024, 3);
    expect(makeBytes(4096, 3).equals(big.subarray(0, 4096))).toBe(true);
    origin.addFile({ ...FILE, id: 'file_big', bytes: big });
    const res = await request(`${origin.url}/v1/files/file_big/content`, { headers: { range: 'bytes=1048576-' } });
    expect(res.statusCode).toBe(206);
    // Hash as it streams: concatenating 63 MiB would cost more than the transfer itself.
    const hash = createHash('sha1');
    for await (const chunk of res.body) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(createHash('sha1').update(big.subarray(1048576)).digest('hex'));
  });
});
