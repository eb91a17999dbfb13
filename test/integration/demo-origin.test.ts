// The --demo Files API: its catalog, the beta list shape, metadata the real parser accepts, ranged content, and a real download.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, startDemoOrigin, type DemoFile, type DemoOrigin } from '../../src/main/demo/demo-origin.ts';
import { DEFAULT_SERVICE_OPTIONS, FilehaulService } from '../../src/main/service.ts';
import { parseFileMetadata } from '../../src/main/sources/files-api.ts';

const KEY = { 'x-api-key': DEMO_API_KEY };
let origin: DemoOrigin;

beforeAll(async () => {
  origin = await startDemoOrigin({ bytesPerSecond: null });
});
afterAll(async () => {
  await origin.close();
});

async function get(pathname: string, headers: Record<string, string> = KEY) {
  const response = await request(`${origin.url}${pathname}`, { headers });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body, json: () => JSON.parse(body.toString('utf8')) };
}

function fileWhere(predicate: (file: DemoFile) => boolean): DemoFile {
  const file = origin.files.find(predicate);
  if (!file) throw new Error('no such demo file');
  return file;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('demo catalog', () => {
  it('has about thirty files of a few KiB to 64 MiB across at least four months, the same every time', async () => {
    const files = origin.files;
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(files.length).toBeLessThanOrEqual(40);
    const months = new Set(files.map((file) => file.createdAt.slice(0, 7)));
    expect(months.size).toBeGreaterThanOrEqual(4);
    const sizes = files.map((file) => file.sizeBytes);
    expect(Math.min(...sizes)).toBeLessThanOrEqual(8 * 1024);
    expect(Math.max(...sizes)).toBe(64 * 1024 * 1024);
    expect(new Set(files.map((file) => file.id)).size).toBe(files.length);
    for (const file of files) expect(file.id).toMatch(/^file_[A-Za-z0-9]{24}$/);
    const again = await startDemoOrigin({ bytesPerSecond: null });
    try {
      expect(again.files).toEqual(files);
    } finally {
      await again.close();
    }
  });
});

describe('demo Files API', () => {
  it('refuses requests without the demo key with an Anthropic-shaped 401', async () => {
    const response = await get('/v1/files', {});
    expect(response.status).toBe(401);
    expect(response.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(response.headers['request-id']).toMatch(/^req_/);
  });

  it('lists every file newest first in the beta page shape, paging with after_id and before_id', async () => {
    const seen: string[] = [];
    let afterId: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response = await get(`/v1/files?limit=7${afterId ? `&after_id=${afterId}` : ''}`);
      expect(response.status).toBe(200);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(['data', 'first_id', 'has_more', 'last_id']);
      seen.push(...body.data.map((file: { id: string }) => file.id));
      expect(body.first_id).toBe(body.data[0].id);
      expect(body.last_id).toBe(body.data.at(-1).id);
      afterId = body.last_id;
      if (!body.has_more) break;
    }
    expect(seen).toHaveLength(origin.files.length);
    const created = seen.map((id) => Date.parse(fileWhere((file) => file.id === id).createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const before = (await get(`/v1/files?limit=3&before_id=${seen[5]}`)).json();
    expect(before.data.map((file: { id: string }) => file.id)).toEqual(seen.slice(2, 5));
    expect(before.has_more).toBe(true);
    expect((await get('/v1/files?limit=0')).status).toBe(400);
    expect((await get('/v1/files?after_id=file_unknown')).json().data).toEqual([]);
  });

  it('serves metadata that the engine’s own parser reads, and refuses content of non-downloadable files', async () => {
    for (const file of origin.files) {
      const response = await get(`/v1/files/${file.id}`);
      expect(response.status).toBe(200);
      const meta = response.json();
      expect(meta).toEqual({ id: file.id, type: 'file', filename: file.filename, mime_type: file.mimeType, size_bytes: file.sizeBytes, created_at: file.createdAt, downloadable: file.downloadable });
      if (file.downloadable) expect(parseFileMetadata(file.id, response.body.toString('utf8'))).toMatchObject({ filename: file.filename, sizeBytes: file.sizeBytes, createdAt: file.createdAt });
      else expect(() => parseFileMetadata(file.id, response.body.toString('utf8'))).toThrow(/not downloadable/);
    }
    const upload = fileWhere((file) => !file.downloadable);
    expect((await get(`/v1/files/${upload.id}/content`)).status).toBe(400);
    expect((await get('/v1/files/file_nope')).status).toBe(404);
  });

  it('serves the same content every time, with validators, as whole-line CSV text', async () => {
    const csv = fileWhere((file) => file.filename.endsWith('.csv') && file.sizeBytes < 200 * 1024);
    const first = await get(`/v1/files/${csv.id}/content`);
    const second = await get(`/v1/files/${csv.id}/content`);
    expect(first.status).toBe(200);
    expect(first.body.length).toBe(csv.sizeBytes);
    expect(first.body.equals(second.body)).toBe(true);
    expect(first.headers).toMatchObject({ 'accept-ranges': 'bytes', etag: csv.etag, 'last-modified': csv.lastModified, 'content-length': String(csv.sizeBytes) });
    expect(csv.etag).toMatch(/^"[^"]+"$/);
    const lines = first.body.toString('latin1').split('\n');
    expect(lines[0]).toMatch(/^id,date,region,product,quantity,amount,comment/);
    expect(lines.at(-1)).toBe('');
    expect(lines[1]).toMatch(/^0000001,2025-\d\d-\d\d,\w+,\w+,\d+,[\d.]+,/);
  });

  it('answers ranges (open, closed, suffix, across generator blocks) consistently with the whole file', async () => {
    const file = fileWhere((f) => f.kind === 'binary' && f.sizeBytes >= 8 * 1024 * 1024 && f.sizeBytes <= 16 * 1024 * 1024);
    const whole = (await get(`/v1/files/${file.id}/content`)).body;
    expect(whole.length).toBe(file.sizeBytes);
    const total = file.sizeBytes;
    const ranges: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=65530-65545', 65530, 65545],
      ['bytes=100000-', 100000, total - 1],
      ['bytes=-1000', total - 1000, total - 1],
      [`bytes=${total - 10}-${total + 500}`, total - 10, total - 1],
    ];
    for (const [range, start, end] of ranges) {
      const part = await get(`/v1/files/${file.id}/content`, { ...KEY, range });
      expect(part.status, range).toBe(206);
      expect(part.headers['content-range'], range).toBe(`bytes ${start}-${end}/${total}`);
      expect(part.body.equals(whole.subarray(start, end + 1)), range).toBe(true);
    }
    const unsatisfiable = await get(`/v1/files/${file.id}/content`, { ...KEY, range: `bytes=${total}-` });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers['content-range']).toBe(`bytes */${total}`);
    // Segments fetched separately and joined are the whole file, as the engine will assemble them.
    const cuts = [0, 1_000_003, 4_194_301, total];
    const parts = [];
    for (let i = 0; i < cuts.length - 1; i++) parts.push((await get(`/v1/files/${file.id}/content`, { ...KEY, range: `bytes=${cuts[i]}-${cuts[i + 1] - 1}` })).body);
    expect(sha256(Buffer.concat(parts))).toBe(sha256(whole));
  });

  it('honours If-Range: a matching strong ETag or date gives 206, anything else the whole file', async () => {
    const file = fileWhere((f) => f.filename.endsWith('.log'));
    const url = `/v1/files/${file.id}/content`;
    expect((await get(url, { ...KEY, range: 'bytes=64-127', 'if-range': file.etag })).status).toBe(206);
    expect((await get(url, { ...KEY, range: 'bytes=64-127', 'if-range': file.lastModified })).status).toBe(206);
    for (const ifRange of ['"other"', `W/${file.etag}`, 'Mon, 01 Jan 2024 00:00:00 GMT']) {
      const response = await get(url, { ...KEY, range: 'bytes=64-127', 'if-range': ifRange });
      expect(response.status, ifRange).toBe(200);
      expect(response.body.length).toBe(file.sizeBytes);
    }
  });

  it('streams the 64 MiB file whole', async () => {
    const big = fileWhere((f) => f.sizeBytes === 64 * 1024 * 1024);
    const response = await request(`${origin.url}/v1/files/${big.id}/content`, { headers: KEY });
    let received = 0;
    for await (const chunk of response.body) received += (chunk as Buffer).length;
    expect(response.statusCode).toBe(200);
    expect(received).toBe(big.sizeBytes);
  });

  it('is downloaded by the real engine into the month of its created_at', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'filehaul-demo-'));
    const service = await FilehaulService.open({ ...DEFAULT_SERVICE_OPTIONS, dataDir, apiBase: origin.url, apiKey: DEMO_API_KEY });
    try {
      const picks = [fileWhere((f) => f.kind === 'csv'), fileWhere((f) => f.kind === 'binary' && f.sizeBytes > 4 * 1024 * 1024 && f.sizeBytes < 16 * 1024 * 1024)];
      const prepared = service.prepare(picks.map((file) => file.id));
      for (const [index, item] of prepared.entries()) {
        if ('error' in item) throw new Error(item.error);
        const outcome = await service.download(item.record, item.source);
        expect(outcome.state).toBe('done');
        if (outcome.state !== 'done') continue;
        expect(outcome.record.finalPath).toBe(path.join('raw', picks[index].createdAt.slice(0, 7), picks[index].filename));
        const archived = await readFile(path.join(dataDir, outcome.record.finalPath!));
        expect(sha256(archived)).toBe(sha256((await get(`/v1/files/${picks[index].id}/content`)).body));
      }
    } finally {
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
