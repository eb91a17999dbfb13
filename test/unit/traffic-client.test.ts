// Traffic client over a scripted inner client: slots held for the body's life and released once, AIMD on 429, budget pacing, header budgets, failover and cool-down waits.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HttpClient, HttpResponse } from '../../src/main/engine/http/client.ts';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';
import { hashApiKey } from '../../src/main/engine/traffic/request-labels.ts';
import { createTrafficClient, type RequestOutcome, type TrafficOptions, type WaitInfo } from '../../src/main/engine/traffic/traffic-client.ts';

const PRIMARY = 'https://api.anthropic.com';
const BACKUP = 'https://backup.example.net';
const CONTENT = `${PRIMARY}/v1/files/file_abc/content`;

type Reply = { status: number; headers?: Record<string, string> } | Error;

function scripted(reply: (url: string, index: number) => Reply = () => ({ status: 200 })) {
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  const bodies: PassThrough[] = [];
  const inner: HttpClient = {
    async get(url, headers) {
      calls.push({ url, headers });
      const answer = reply(url, calls.length - 1);
      if (answer instanceof Error) throw answer;
      const body = new PassThrough();
      bodies.push(body);
      return { status: answer.status, headers: { 'request-id': `req_${calls.length}`, ...answer.headers }, body: body as unknown as HttpResponse['body'] };
    },
    async close() {},
  };
  return { inner, calls, bodies };
}

function setup(options: Partial<TrafficOptions> = {}, reply?: (url: string, index: number) => Reply) {
  const clock = new ManualClock();
  const fake = scripted(reply);
  const outcomes: RequestOutcome[] = [];
  const waits: WaitInfo[] = [];
  const client = createTrafficClient(fake.inner, {
    primaryBase: PRIMARY,
    backupBase: null,
    requestsPerMinute: 100,
    maxConnectionsPerEndpoint: 32,
    cooldown: { initialMs: 30_000, maxMs: 600_000 },
    clock,
    onRequest: (outcome) => outcomes.push(outcome),
    onWait: (info) => waits.push(info),
    ...options,
  });
  const inUse = (endpoint = PRIMARY) => client.stats().endpoints.find((e) => e.endpoint === endpoint)?.inUse ?? 0;
  return { clock, client, ...fake, outcomes, waits, inUse, t0: clock.now() };
}

/** Reads a body to its end, as the engine does. */
async function drain(body: HttpResponse['body']): Promise<void> {
  for await (const _chunk of body as AsyncIterable<Buffer>);
}

describe('traffic client: connection slots', () => {
  it('holds the slot while the body is open, so a request beyond the allowance waits for one to end', async () => {
    const { clock, client, calls, bodies, inUse } = setup({ maxConnectionsPerEndpoint: 2, limitAllHosts: true, requestsPerMinute: 6000 });
    const first = await client.get(CONTENT, {});
    await client.get(CONTENT, {});
    let third: HttpResponse | null = null;
    void client.get(CONTENT, {}).then((response) => (third = response));
    await clock.settle();
    expect(calls).toHaveLength(2);
    expect(inUse()).toBe(2);
    bodies[0].end('bytes');
    await drain(first.body);
    await clock.settle();
    expect(third).not.toBeNull();
    expect(calls).toHaveLength(3);
    expect(inUse()).toBe(2);
  });

  it('releases exactly once whether the body ends, is destroyed or fails: no slot leaks after 100 requests', async () => {
    const { clock, client, bodies, outcomes, inUse } = setup({ maxConnectionsPerEndpoint: 4, requestsPerMinute: 600_000, burst: 1000 });
    const finish = async (response: HttpResponse, body: PassThrough, index: number) => {
      if (index % 3 === 0) {
        body.end('all of it');
        await drain(response.body);
      } else if (index % 3 === 1) {
        response.body.destroy();
      } else {
        const reading = drain(response.body).catch(() => {});
        body.destroy(new Error('connection reset'));
        await reading;
      }
      // A second end of life (a late destroy) must not give the slot back twice.
      response.body.destroy();
    };
    const tasks = Array.from({ length: 100 }, async (_, index) => {
      const response = await client.get(`${CONTENT}?n=${index}`, {});
      expect(inUse()).toBeLessThanOrEqual(4);
      await clock.settle();
      await finish(response, bodies[bodies.findIndex((b) => (b as unknown) === response.body)], index);
    });
    await Promise.all(tasks);
    await clock.settle();
    expect(inUse()).toBe(0);
    expect(outcomes).toHaveLength(100);
    expect(client.stats().requests).toBe(100);
  });

  it('releases the slot when the inner client throws, and reports the failure', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const { client, outcomes, inUse } = setup({ maxConnectionsPerEndpoint: 1 }, (_url, index) => (index === 0 ? reset : { status: 200 }));
    await expect(client.get(CONTENT, {})).rejects.toThrow('socket hang up');
    expect(inUse()).toBe(0);
    expect(outcomes[0]).toMatchObject({ status: null, error: 'socket hang up', endpoint: PRIMARY });
  });
});

describe('traffic client: signals from responses', () => {
  it('halves the allowance once for a burst of 429s and reports each request once, without query or credentials', async () => {
    const { clock, client, bodies, outcomes } = setup({ requestsPerMinute: 6000, burst: 100 }, () => ({ status: 429, headers: { 'retry-after-ms': '20' } }));
    const responses = await Promise.all(Array.from({ length: 8 }, () => client.get(`https://user:pw@api.anthropic.com/v1/files/f/content?sig=secret#x`, {})));
    expect(client.allowance(PRIMARY)).toBe(16);
    expect(client.allowance(`${PRIMARY}/v1/files`)).toBe(16);
    bodies.forEach((body) => body.end('{"type":"error"}'));
    await Promise.all(responses.map((response) => drain(response.body)));
    await clock.settle();
    expect(outcomes).toHaveLength(8);
    expect(new Set(outcomes.map((o) => o.url))).toEqual(new Set(['https://api.anthropic.com/v1/files/f/content']));
    expect(outcomes[0]).toMatchObject({ status: 429, requestId: expect.stringMatching(/^req_/) });
    expect(client.stats()).toMatchObject({ rateLimited: 8, byStatus: { 429: 8 } });
  });

  it('paces API requests through the budget and tells the waiting request until when; plain hosts are not budgeted', async () => {
    const { clock, client, calls, waits, t0 } = setup();
    const perRequest: Array<WaitInfo | null> = [];
    for (let i = 0; i < 3; i++) void client.get(CONTENT, {}, { onWait: (info) => perRequest.push(info) });
    for (let i = 0; i < 5; i++) void client.get(`https://cdn.example.org/f${i}.iso`, {});
    await clock.settle();
    expect(calls.filter((c) => c.url.startsWith(PRIMARY))).toHaveLength(1);
    expect(calls.filter((c) => c.url.startsWith('https://cdn'))).toHaveLength(5);
    expect(waits.map((w) => [w.reason, w.until! - t0])).toEqual([['budget', 600], ['budget', 1200]]);
    expect(client.waitingUntil(PRIMARY)).toBe(t0 + 600);
    await clock.advance(1200);
    expect(calls.filter((c) => c.url.startsWith(PRIMARY))).toHaveLength(3);
    expect(perRequest.filter((info) => info === null)).toHaveLength(2);
    expect(client.waitingUntil()).toBeNull();
  });

  it('keeps one budget per API key (hashed), so two keys do not wait for each other', async () => {
    const { clock, client, calls } = setup();
    void client.get(CONTENT, { 'x-api-key': 'sk-ant-one' });
    void client.get(CONTENT, { 'x-api-key': 'sk-ant-two' });
    void client.get(CONTENT, { 'x-api-key': 'sk-ant-one' });
    await clock.settle();
    expect(calls).toHaveLength(2);
    expect(hashApiKey('sk-ant-one')).not.toContain('sk-ant');
  });

  it('follows rate-limit headers: remaining 0 holds every request until the reset time', async () => {
    const reset = new Date(Date.UTC(2025, 5, 15, 12, 0, 10)).toISOString();
    const { clock, client, calls, t0 } = setup({}, (_url, index) =>
      index === 0 ? { status: 200, headers: { 'anthropic-ratelimit-requests-limit': '100', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': reset } } : { status: 200 },
    );
    await client.get(CONTENT, {});
    void client.get(CONTENT, {});
    await clock.settle();
    expect(client.waitingUntil()).toBe(t0 + 10_000);
    await clock.advance(9999);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls).toHaveLength(2);
  });
});

describe('traffic client: overload', () => {
  it('moves to the backup base on 503 with the same headers, and back to the primary after the cool-down', async () => {
    const { clock, client, calls } = setup({ backupBase: BACKUP, requestsPerMinute: 6000 }, (url, index) => (index === 0 ? { status: 503 } : { status: 206 }));
    const headers = { 'x-api-key': 'sk-ant-k', range: 'bytes=100-199', 'if-range': '"etag-1"' };
    const failed = await client.get(`${CONTENT}?beta=true`, headers);
    failed.body.destroy();
    await client.get(`${CONTENT}?beta=true`, headers);
    expect(calls[1]).toEqual({ url: `${BACKUP}/v1/files/file_abc/content?beta=true`, headers });
    expect(client.stats().failovers).toBe(1);
    await clock.advance(30_000);
    await client.get(CONTENT, headers);
    expect(calls[2].url).toBe(CONTENT);
  });

  it('without a backup, a 529 makes the next request wait out the cool-down and say so', async () => {
    const { clock, client, calls, waits, t0 } = setup({}, (_url, index) => (index === 0 ? { status: 529 } : { status: 200 }));
    (await client.get(CONTENT, {})).body.destroy();
    let sent = false;
    void client.get(CONTENT, {}).then(() => (sent = true));
    await clock.settle();
    expect(waits).toEqual([{ reason: 'cooldown', until: t0 + 30_000, endpoint: PRIMARY }]);
    expect(client.waitingUntil()).toBe(t0 + 30_000);
    await clock.advance(29_999);
    expect(sent).toBe(false);
    await clock.advance(1);
    expect(sent).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('rejects waiting requests when closed', async () => {
    const { clock, client } = setup();
    await client.get(CONTENT, {});
    const waiting = client.get(CONTENT, {});
    await clock.settle();
    await client.close();
    await expect(waiting).rejects.toThrow('closed');
    expect(clock.pendingTimers).toBe(0);
  });
});
