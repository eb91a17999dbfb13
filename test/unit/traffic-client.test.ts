// Traffic client over a scripted inner client: slots held for the body's life and released once, AIMD on 429, budget pacing, header budgets, failover and cool-down waits.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HttpClient, HttpResponse } from '../../src/main/engine/http/client.ts';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';
import { hashApiKey } from '../../src/main/engine/traffic/request-labels.ts';
import { createTrafficClient, type RequestOutcome, type TrafficOptions, type WaitInfo } from '../../src/main/engine/traffic/traffic-client.ts';
import { ANSWERS_PER_HEDGE } from '../../src/main/engine/traffic/request-hedge.ts';

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

  it('reports the Range each request asked for, so the request log says which part of the file it was', async () => {
    const { client, outcomes, bodies } = setup({ maxConnectionsPerEndpoint: 2, requestsPerMinute: 600_000, burst: 1000 });
    const ranged = await client.get(CONTENT, { range: 'bytes=100-199' });
    const whole = await client.get(CONTENT, {});
    bodies[0].end('x');
    bodies[1].end('y');
    await drain(ranged.body);
    await drain(whole.body);
    expect(outcomes.map((outcome) => outcome.range)).toEqual(['bytes=100-199', null]);
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
  it('retries a lone 503 on the primary; five in a row move it to the backup base with the same headers, and back after the cool-down', async () => {
    const { clock, client, calls } = setup({ backupBase: BACKUP, requestsPerMinute: 6000 }, (_url, index) => (index === 0 || (index >= 2 && index <= 6) ? { status: 503 } : { status: 206 }));
    const headers = { 'x-api-key': 'sk-ant-k', range: 'bytes=100-199', 'if-range': '"etag-1"' };
    const ask = async () => {
      const response = await client.get(`${CONTENT}?beta=true`, headers);
      response.body.destroy();
      return response.status;
    };
    // One 503 among successes: no cool-down, the retry goes to the primary again.
    expect([await ask(), await ask()]).toEqual([503, 206]);
    expect(calls.map((c) => c.url.startsWith(PRIMARY))).toEqual([true, true]);
    expect(client.stats().endpoints.find((e) => e.endpoint === PRIMARY)?.coolingUntil).toBeNull();
    // Five in a row: overload is sustained, the endpoint cools down and the next request fails over.
    for (let i = 0; i < 5; i++) expect(await ask()).toBe(503);
    expect(await ask()).toBe(206);
    expect(calls[7]).toEqual({ url: `${BACKUP}/v1/files/file_abc/content?beta=true`, headers });
    expect(client.stats().failovers).toBe(1);
    await clock.advance(30_000);
    await client.get(CONTENT, headers);
    expect(calls[8].url).toBe(CONTENT);
  });

  it('without a backup, a run of 529s makes the next request wait out the cool-down and say so', async () => {
    const { clock, client, calls, waits } = setup({ requestsPerMinute: 6000 }, (_url, index) => (index < 5 ? { status: 529 } : { status: 200 }));
    for (let i = 0; i < 5; i++) (await client.get(CONTENT, {})).body.destroy();
    const openedAt = clock.now();
    let sent = false;
    void client.get(CONTENT, {}).then(() => (sent = true));
    await clock.settle();
    expect(waits).toEqual([{ reason: 'cooldown', until: openedAt + 30_000, endpoint: PRIMARY }]);
    expect(client.waitingUntil()).toBe(openedAt + 30_000);
    await clock.advance(29_999);
    expect(sent).toBe(false);
    await clock.advance(1);
    expect(sent).toBe(true);
    expect(calls).toHaveLength(6);
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

/** An inner client whose answers the test hands out one by one (requests wait until then). */
function manual() {
  const pending: Array<{ url: string; signal?: AbortSignal; answer: (status: number) => PassThrough; fail: (error: Error) => void }> = [];
  const inner: HttpClient = {
    get(url, _headers, options) {
      return new Promise<HttpResponse>((resolve, reject) => {
        const entry = {
          url,
          signal: options?.signal,
          answer: (status: number) => {
            const body = new PassThrough();
            resolve({ status, headers: {}, body: body as unknown as HttpResponse['body'] });
            return body;
          },
          fail: (error: Error) => reject(error),
        };
        options?.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
        pending.push(entry);
      });
    },
    async close() {},
  };
  return { inner, pending };
}

describe('traffic client: hedging', () => {
  function hedgingSetup(options: Partial<TrafficOptions> = {}) {
    const clock = new ManualClock();
    const fake = manual();
    const client = createTrafficClient(fake.inner, { primaryBase: PRIMARY, backupBase: null, requestsPerMinute: 60_000, burst: 100, maxConnectionsPerEndpoint: 2, cooldown: { initialMs: 30_000, maxMs: 600_000 }, clock, ...options });
    const inUse = () => client.stats().endpoints.find((e) => e.endpoint === PRIMARY)?.inUse ?? 0;
    /** Ten quick answers teach the client this endpoint's response time and earn it one hedge (ANSWERS_PER_HEDGE). */
    const warmUp = async (answers = ANSWERS_PER_HEDGE) => {
      for (let i = 0; i < answers; i++) {
        const answer = client.get(CONTENT, {});
        await clock.settle();
        fake.pending.shift()!.answer(200).end();
        await drain((await answer).body);
      }
    };
    return { clock, client, ...fake, inUse, warmUp };
  }

  it('sends an overdue request again on the same connection slot, uses the first answer and calls the other off', async () => {
    const { clock, client, pending, inUse, warmUp } = hedgingSetup();
    await warmUp();
    let response: HttpResponse | null = null;
    void client.get(CONTENT, {}).then((r) => (response = r));
    await clock.settle();
    expect(pending).toHaveLength(1);
    // The endpoint answers at once, so the floor (250 ms) decides when the answer is overdue.
    await clock.advance(249);
    expect(pending).toHaveLength(1);
    await clock.advance(1);
    expect(pending).toHaveLength(2);
    // The two share one slot: the other connection of the allowance stays free.
    expect(inUse()).toBe(1);
    const [first, second] = pending.splice(0);
    second.answer(206).end('bytes');
    await clock.settle();
    expect(response!.status).toBe(206);
    expect(first.signal?.aborted).toBe(true);
    await drain(response!.body);
    await clock.settle();
    expect(inUse()).toBe(0);
    expect(client.stats()).toMatchObject({ hedged: 1, requests: 12, byStatus: { 200: 10, 206: 1, error: 1 } });
    expect(clock.pendingTimers).toBe(0);
  });

  it('sends at most one hedge per ten answers: two overdue requests at once get one between them', async () => {
    const { clock, client, pending, warmUp } = hedgingSetup({ maxConnectionsPerEndpoint: 8 });
    await warmUp();
    // Two overdue requests at once: only one hedge is earned.
    const answers = [client.get(CONTENT, {}), client.get(CONTENT, {})];
    await clock.advance(1000);
    expect(pending).toHaveLength(3);
    expect(client.stats().hedged).toBe(1);
    // The two first requests answer; the hedge is called off.
    const [first, second, hedge] = pending.splice(0);
    first.answer(200).end();
    second.answer(200).end();
    for (const answer of answers) await drain((await answer).body);
    expect(hedge.signal?.aborted).toBe(true);
    expect(client.stats().hedged).toBe(1);
  });

  it('keeps the first request when it answers before the hedge, and sends none while the endpoint is unknown or hedging is off', async () => {
    const { clock, client, pending, warmUp } = hedgingSetup();
    // Unknown endpoint: no estimate, so no hedge however long the wait.
    const cold = client.get(CONTENT, {});
    await clock.advance(5000);
    expect(pending).toHaveLength(1);
    pending.shift()!.answer(200).end();
    await drain((await cold).body);
    await warmUp();
    const answer = client.get(CONTENT, {});
    await clock.advance(100);
    pending.shift()!.answer(206).end();
    await drain((await answer).body);
    await clock.advance(1000);
    expect(pending).toHaveLength(0);
    expect(client.stats().hedged).toBe(0);
    expect(clock.pendingTimers).toBe(0);

    const off = hedgingSetup({ hedgeAfterMs: 0 });
    await off.warmUp(20);
    void off.client.get(CONTENT, {});
    await off.clock.advance(5000);
    expect(off.pending).toHaveLength(1);
  });

  it('lets a request that replaces a silent response share its slot instead of queueing for one', async () => {
    const { clock, client, pending, inUse } = hedgingSetup({ maxConnectionsPerEndpoint: 1, hedgeAfterMs: 0 });
    const silent = client.get(CONTENT, {});
    await clock.settle();
    pending.shift()!.answer(206).write('half');
    const body = (await silent).body;
    // An ordinary request waits for the only slot; one that replaces the silent body goes at once.
    let ordinary = false;
    void client.get(CONTENT, {}).then(() => (ordinary = true));
    const hedge = client.get(CONTENT, {}, { replaces: body });
    await clock.settle();
    expect(pending).toHaveLength(1);
    expect(ordinary).toBe(false);
    pending.shift()!.answer(206).end('rest');
    await drain((await hedge).body);
    expect(inUse()).toBe(1);
    // The slot is given back only when the silent body is done too; then the ordinary request goes.
    body.destroy();
    await clock.settle();
    expect(pending).toHaveLength(1);
  });
});
