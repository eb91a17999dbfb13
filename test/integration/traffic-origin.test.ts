// Self-test of the test origin's request-rate limit (test/fixtures/origin-rate-limit.ts), which the traffic tests and benchmarks trust.
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { makeBytes, startOrigin, type Origin } from '../fixtures/files-api-origin.ts';

const FILE = { id: 'file_limited', filename: 'limited.bin', bytes: makeBytes(4096, 3), createdAt: '2025-06-15T12:00:00Z' };
let origin: Origin | undefined;

afterEach(async () => {
  await origin?.close();
  origin = undefined;
});

async function get(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const response = await request(`${origin!.url}${path}`);
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

describe('test origin rate limit', () => {
  it('lets the burst through, then answers 429 with retry-after-ms, counting every /v1 route but not /dl', async () => {
    // 60 a minute (one token a second): the three requests must come within one interval, which 100 ms at 600 a
    // minute was not always on a loaded machine.
    origin = await startOrigin({ files: [FILE], rateLimit: { requestsPerMinute: 60, burst: 2 } });
    const answers = [await get(`/v1/files/${FILE.id}`), await get(`/v1/files/${FILE.id}/content`), await get(`/v1/files/${FILE.id}`)];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    const refused = answers[2];
    // One token a second: the wait is at most one interval, and says so in both headers.
    expect(Number(refused.headers['retry-after-ms'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after-ms'])).toBeLessThanOrEqual(1000);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body).error.type).toBe('rate_limit_error');
    expect(origin.requests.map((entry) => entry.rateLimited ?? false)).toEqual([false, false, true]);
    // No rate-limit headers unless asked for.
    expect(answers[0].headers['anthropic-ratelimit-requests-remaining']).toBeUndefined();
    // The plain route is no API: it is never limited.
    expect((await get(`/dl/${FILE.id}`)).status).toBe(200);
  });

  it('a refused request consumes no injected fault', async () => {
    origin = await startOrigin({ files: [FILE], rateLimit: { requestsPerMinute: 60, burst: 1 } });
    origin.injectFault({ kind: 'status', status: 503 }, { match: () => true });
    expect([(await get(`/v1/files/${FILE.id}`)).status, (await get(`/v1/files/${FILE.id}`)).status]).toEqual([503, 429]);
    expect(origin.requests.map((entry) => entry.fault ?? null)).toEqual(['status', null]);
  });

  it('announces limit, remaining and reset (when the bucket is full again) on every response', async () => {
    origin = await startOrigin({ files: [FILE], rateLimit: { requestsPerMinute: 60, burst: 2, headers: true } });
    const before = Date.now();
    const answers = [await get(`/v1/files/${FILE.id}`), await get(`/v1/files/${FILE.id}`), await get(`/v1/files/${FILE.id}`)];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expect(answers.map((answer) => answer.headers['anthropic-ratelimit-requests-limit'])).toEqual(['60', '60', '60']);
    expect(answers.map((answer) => answer.headers['anthropic-ratelimit-requests-remaining'])).toEqual(['1', '0', '0']);
    const resets = answers.map((answer) => Date.parse(String(answer.headers['anthropic-ratelimit-requests-reset'])));
    // One token a second: full again 1 s after the first request, about 2 s after the second.
    expect(resets[0]).toBeGreaterThanOrEqual(before + 1000);
    expect(resets[1]).toBeGreaterThanOrEqual(before + 2000);
    expect(resets[1]).toBeLessThanOrEqual(Date.now() + 2000);
  });
});
