// The engine against a real origin on loopback: segmented downloads, the probe, archive placement, request economy.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBytes } from '../fixtures/files-api-origin.ts';
import { startHarness, type Harness } from './engine-harness.ts';

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
let harness: Harness;

beforeEach(async () => {
  harness = await startHarness();
});
afterEach(async () => {
  await harness.close();
});

describe('segmented download', () => {
  it('downloads a Files API file byte-identical into raw/YYYY-MM of its created_at, with the API headers', async () => {
    const bytes = makeBytes(12 * MiB + 12345, 7);
    harness.origin.addFile({ id: 'file_one', filename: 'report.pdf', bytes, createdAt: '2025-03-31T23:59:59Z' });
    const [result] = await harness.get(['file_one'], { connections: 8 });
    expect(result.outcome.state).toBe('done');
    expect(result.bytes!.equals(bytes)).toBe(true);
    if (result.outcome.state !== 'done') return;
    expect(result.outcome.record.finalPath).toBe('raw/2025-03/report.pdf');
    expect(result.outcome.record.sha256).toBe(sha256(bytes));
    const [metadata] = harness.origin.requests.filter((entry) => entry.kind === 'metadata');
    expect(metadata.headers['x-api-key']).toBe('sk-ant-test-engine-key');
    expect(metadata.headers['anthropic-version']).toBe('2023-06-01');
    expect(metadata.headers['anthropic-beta']).toBe('files-api-2025-04-14');
    const content = harness.origin.contentRequests('file_one');
    expect(content[0].range).toBe('bytes=0-');
    expect(content.length).toBeGreaterThan(1);
    expect(content.length).toBeLessThanOrEqual(8 + 4);
    // Nothing is left in tmp/ once the file is archived.
    expect(readdirSync(path.join(harness.dataDir, 'tmp')).filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('keeps to connections + 4 content requests on a larger file and fetches each byte about once', async () => {
    const bytes = makeBytes(48 * MiB, 3);
    harness.origin.addFile({ id: 'file_big', filename: 'big.bin', bytes, createdAt: '2025-01-02T00:00:00Z' });
    const [result] = await harness.get(['file_big'], { connections: 6 });
    expect(result.bytes!.equals(bytes)).toBe(true);
    expect(result.outcome.state === 'done' && result.outcome.record.sha256).toBe(sha256(bytes));
    const content = harness.origin.contentRequests('file_big');
    expect(content.length).toBeLessThanOrEqual(6 + 4);
    for (const entry of content.slice(1)) expect(entry.range).toMatch(/^bytes=\d+-\d+$/);
  });

  it('records the SHA-256 of the whole file when most of it was hashed during the transfer', async () => {
    // Throttled so that progress ticks (every 50 ms here) see the first range grow past the 8 MiB hashing step.
    const slow = await startHarness({ bytesPerSecondPerConnection: 16 * MiB });
    try {
      const bytes = makeBytes(40 * MiB + 999, 8);
      slow.origin.addFile({ id: 'file_prefix', filename: 'prefix.bin', bytes, createdAt: '2025-04-01T00:00:00Z' });
      const [result] = await slow.get(['file_prefix'], { connections: 2 });
      expect(result.bytes!.equals(bytes)).toBe(true);
      expect(result.outcome.state === 'done' && result.outcome.record.sha256).toBe(sha256(bytes));
    } finally {
      await slow.close();
    }
  });

  it('falls back to one stream when the server ignores Range', async () => {
    const bytes = makeBytes(3 * MiB, 4);
    harness.origin.addFile({ id: 'file_norange', filename: 'plain.txt', bytes, createdAt: '2025-05-05T00:00:00Z', rangeSupport: false });
    const [result] = await harness.get(['file_norange']);
    expect(result.bytes!.equals(bytes)).toBe(true);
    expect(harness.origin.contentRequests('file_norange')).toHaveLength(1);
  });

  it('downloads an empty file', async () => {
    harness.origin.addFile({ id: 'file_empty', filename: 'empty.txt', bytes: Buffer.alloc(0), createdAt: '2025-05-05T00:00:00Z' });
    const [result] = await harness.get(['file_empty']);
    expect(result.outcome.state).toBe('done');
    expect(result.bytes!.length).toBe(0);
  });

  it('downloads a plain URL under its Content-Disposition name in the current month', async () => {
    const bytes = makeBytes(2 * MiB + 1, 5);
    harness.origin.addFile({ id: 'file_url', filename: 'données été.csv', bytes, createdAt: '2020-01-01T00:00:00Z' });
    const [result] = await harness.get([`${harness.origin.url}/dl/file_url`]);
    expect(result.bytes!.equals(bytes)).toBe(true);
    if (result.outcome.state !== 'done') return;
    const month = new Date().toISOString().slice(0, 7);
    expect(result.outcome.record.finalPath).toBe(`raw/${month}/données été.csv`);
    // No API key travels to a plain URL.
    expect(harness.origin.contentRequests('file_url').every((entry) => entry.headers['x-api-key'] === undefined)).toBe(true);
  });

  it('gives equal names in one month distinct files, and a hostile name stays inside raw/', async () => {
    harness.origin.addFile({ id: 'file_a', filename: '../../escape.txt', bytes: makeBytes(1000, 1), createdAt: '2025-02-01T00:00:00Z' });
    harness.origin.addFile({ id: 'file_b', filename: 'escape.txt', bytes: makeBytes(2000, 2), createdAt: '2025-02-02T00:00:00Z' });
    const results = await harness.get(['file_a']);
    const more = await harness.get(['file_b']);
    const paths = [...results, ...more].map((result) => (result.outcome.state === 'done' ? result.outcome.record.finalPath : null));
    expect(paths).toEqual(['raw/2025-02/escape.txt', 'raw/2025-02/escape (2).txt']);
    expect(existsSync(path.join(harness.dataDir, '..', 'escape.txt'))).toBe(false);
  });

  it('refuses a file that is not downloadable before any content request', async () => {
    harness.origin.addFile({ id: 'file_upload', filename: 'mine.pdf', bytes: makeBytes(100, 1), createdAt: '2025-02-01T00:00:00Z', downloadable: false });
    const [result] = await harness.get(['file_upload']);
    expect(result.outcome.state).toBe('failed');
    expect(result.outcome.state === 'failed' && result.outcome.message).toMatch(/not downloadable/);
    expect(harness.origin.contentRequests('file_upload')).toHaveLength(0);
  });

  it('reports a second get of an archived file as done without downloading it again', async () => {
    harness.origin.addFile({ id: 'file_twice', filename: 'twice.bin', bytes: makeBytes(5000, 1), createdAt: '2025-02-01T00:00:00Z' });
    await harness.get(['file_twice']);
    const service = await harness.open();
    const [prepared] = service.prepare(['file_twice']);
    await service.close();
    expect('alreadyDone' in prepared && prepared.alreadyDone).toBe(true);
    expect(harness.origin.contentRequests('file_twice')).toHaveLength(1);
  });
});
