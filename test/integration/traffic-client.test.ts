// The traffic client around the real undici HttpClient against real test origins on 127.0.0.1: AIMD on 429s (one decrease per loss episode, climb-back by successes), cool-down and failover only for sustained 503s.
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpResponse } from '../../src/main/engine/http/client.ts';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';
import { createTrafficClient, type RequestOutcome, type TrafficClient } from '../../src/main/engine/traffic/traffic-client.ts';
import { makeBytes, startOrigin, type Origin } from '../fixtures/files-api-origin.ts';

const KEY = 'sk-ant-traffic-test-key';
const FILE = { id: 'file_traffic', filename: 'traffic.bin', bytes: makeBytes(256 * 1024, 7), createdAt: '2025-06-15T12:00:00Z' };
const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((thing) => thing.close()));
});

async function origin(): Promise<Origin> {
  const started = await startOrigin({ apiKey: KEY, files: [FILE] });
  open.push(started);
  return started;
}

function traffic(primaryBase: string, backupBase: string | null, clock: ManualClock, outcomes: RequestOutcome[]): TrafficClient {
  const client = createTrafficClient(createHttpClient({ connectTimeoutMs: 5000, readTimeoutMs: 10_000 }), {
    primaryBase,
    backupBase,
    // A generous budget so these tests exercise AIMD and failover without waiting on the (hand-driven) clock.
    requestsPerMinute: 60_000,
    burst: 100,
    maxConnectionsPerEndpoint: 8,
    cooldown: { initialMs: 30_000, maxMs: 600_000 },
    clock,
    onRequest: (outcome) => outcomes.push(outcome),
  });
  open.push(client);
  return client;
}

async function bytesOf(response: HttpResponse): Promise<Buffer> {
  return Buffer.from(await response.body.arrayBuffer());
}

const contentPath = `/v1/files/${FILE.id}/content`;
const headers = (range: string, etag: string) => ({ 'x-api-key': KEY, 'anthropic-version': '2023-06-01', range, 'if-range': etag });

describe('traffic client against the test origin', () => {
  it('halves the connection allowance once when parallel requests get 429s, and frees every slot', async () => {
    const api = await origin();
    const clock = new ManualClock();
    const outcomes: RequestOutcome[] = [];
    const client = traffic(api.url, null, clock, outcomes);
    api.injectFault({ kind: 'status', status: 429, headers: { 'retry-after-ms': '10' } }, { count: 3 });
    const etag = api.getFile(FILE.id).etag!;
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.get(`${api.url}${contentPath}`, headers(`bytes=${i * 1024}-${i * 1024 + 1023}`, etag))),
    );
    await Promise.all(responses.map(bytesOf));
    expect(responses.map((r) => r.status).sort()).toEqual([206, 206, 206, 206, 206, 429, 429, 429]);
    expect(api.requests.filter((entry) => entry.status === 429)).toHaveLength(3);
    expect(client.allowance(api.url)).toBe(4);
    await clock.settle();
    const stats = client.stats();
    expect(stats.endpoints.find((e) => e.endpoint === api.url)).toMatchObject({ inUse: 0, connectionLimit: 4, connectionMax: 8 });
    expect(outcomes).toHaveLength(8);
    expect(outcomes.filter((o) => o.status === 429).every((o) => /^req_/.test(o.requestId ?? ''))).toBe(true);
  });

  it('halves again only for a 429 to a request sent after the decrease, and climbs back by successes without any time passing', async () => {
    const api = await origin();
    const clock = new ManualClock();
    const client = traffic(api.url, null, clock, []);
    const etag = api.getFile(FILE.id).etag!;
    const ask = (i: number) => client.get(`${api.url}${contentPath}`, headers(`bytes=${i * 1024}-${i * 1024 + 1023}`, etag));
    // Two waves sent before any answer: both are one loss episode.
    api.injectFault({ kind: 'status', status: 429, headers: { 'retry-after-ms': '10' } }, { count: 4 });
    const wave = await Promise.all([0, 1, 2, 3].map(ask));
    await Promise.all(wave.map(bytesOf));
    expect(wave.map((r) => r.status)).toEqual([429, 429, 429, 429]);
    expect(client.allowance(api.url)).toBe(4);
    // A 429 for a request sent after that decrease (and after its Retry-After): the reduced allowance is still too much.
    await clock.advance(20);
    api.injectFault({ kind: 'status', status: 429, headers: { 'retry-after-ms': '10' } });
    await bytesOf(await ask(0));
    expect(client.allowance(api.url)).toBe(2);
    // Past that 429's Retry-After (it holds the request budget too); from here the clock stands still, so only the
    // count of successes can bring the allowance back.
    await clock.advance(20);
    const climb: number[] = [];
    for (let i = 0; i < 2 + 3 + 4; i++) {
      await bytesOf(await ask(i % 8));
      climb.push(client.allowance(api.url));
    }
    expect(climb).toEqual([2, 3, 3, 3, 4, 4, 4, 4, 5]);
  });

  it('retries a lone 503 on the primary; five in a row move the next request to the backup origin, then back to the primary', async () => {
    const primary = await origin();
    const backup = await origin();
    const clock = new ManualClock();
    const outcomes: RequestOutcome[] = [];
    const client = traffic(primary.url, backup.url, clock, outcomes);
    const etag = primary.getFile(FILE.id).etag!;
    const ask = () => client.get(`${primary.url}${contentPath}`, headers('bytes=1000-1999', etag));

    primary.injectFault({ kind: 'status', status: 503 });
    await bytesOf(await ask());
    const retried = await ask();
    expect(retried.status).toBe(206);
    await bytesOf(retried);
    expect(primary.requests.map((entry) => entry.status)).toEqual([503, 206]);
    expect(client.stats().endpoints.find((e) => e.endpoint === primary.url)?.coolingUntil).toBeNull();

    primary.injectFault({ kind: 'status', status: 503 }, { count: 5 });
    for (let i = 0; i < 5; i++) await bytesOf(await ask());
    const served = await ask();
    expect(served.status).toBe(206);
    expect((await bytesOf(served)).equals(FILE.bytes.subarray(1000, 2000))).toBe(true);
    expect(primary.requests.map((entry) => entry.status)).toEqual([503, 206, 503, 503, 503, 503, 503]);
    expect(backup.requests).toHaveLength(1);
    // Same path, same key and the same validators went to the backup.
    expect(backup.requests[0]).toMatchObject({ path: contentPath, range: 'bytes=1000-1999', ifRange: etag, status: 206 });
    expect(outcomes.map((o) => o.failover)).toEqual([false, false, false, false, false, false, false, true]);

    await clock.advance(30_000);
    const again = await ask();
    await bytesOf(again);
    expect(primary.requests.at(-1)?.status).toBe(206);
    expect(backup.requests).toHaveLength(1);
  });
});
