// Retry rules: which statuses retry, Retry-After in all its forms, x-should-retry, and full-jitter bounds.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffDelay, DEFAULT_BACKOFF, isRetryableNetworkError, isRetryableStatus, retryAfterDelay, retryDelay } from '../../src/main/engine/http/retry-policy.ts';
import { describeErrorResponse, errorForStatus } from '../../src/main/engine/http/api-error.ts';
import { FatalError, RetryableError } from '../../src/main/engine/errors.ts';

describe('retry policy', () => {
  it('retries the statuses the Files API calls transient and no others', () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 413, 416]) expect(isRetryableStatus(status)).toBe(false);
  });

  it('lets x-should-retry override the status rule', () => {
    expect(isRetryableStatus(400, 'true')).toBe(true);
    expect(isRetryableStatus(503, 'false')).toBe(false);
  });

  it('reads retry-after-ms first, then retry-after as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterDelay({ 'retry-after-ms': '1500', 'retry-after': '9' }, now)).toBe(1500);
    expect(retryAfterDelay({ 'retry-after': '7' }, now)).toBe(7000);
    expect(retryAfterDelay({ 'retry-after': 'Thu, 01 Jan 2026 00:02:00 GMT' }, now)).toBe(120_000);
    expect(retryAfterDelay({ 'retry-after': 'Wed, 31 Dec 2025 00:00:00 GMT' }, now)).toBe(0);
    expect(retryAfterDelay({ 'retry-after': 'soon' }, now)).toBeNull();
    expect(retryAfterDelay({}, now)).toBeNull();
  });

  it('keeps full-jitter delays within [0, min(cap, base·2^n)]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, random) => {
        const delay = backoffDelay(attempt, DEFAULT_BACKOFF, () => random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Math.min(DEFAULT_BACKOFF.capMs, DEFAULT_BACKOFF.baseMs * 2 ** attempt));
      }),
    );
  });

  it('waits Retry-After when given; reconnects at once after a break mid-answer; backs off briefly for a lone slow-down', () => {
    const top = () => 0.999999;
    const failed = { slowDown: false, inRow: 1, broke: false, retryAfterMs: null };
    // The server's word wins, even past the cap.
    expect(retryDelay({ ...failed, slowDown: true, retryAfterMs: 120_000 }, DEFAULT_BACKOFF, top)).toBe(120_000);
    // A connection that broke after the server answered: at once, but only the first time in a row.
    expect(retryDelay({ ...failed, broke: true }, DEFAULT_BACKOFF, top)).toBe(0);
    expect(retryDelay({ ...failed, broke: true, inRow: 2 }, DEFAULT_BACKOFF, top)).toBe(1999);
    // Any other failure: full jitter from the base (1 s), doubling.
    expect(retryDelay(failed, DEFAULT_BACKOFF, top)).toBe(999);
    // 429/503/529 without Retry-After: full jitter from 100 ms, doubling per slow-down in a row, capped.
    expect([1, 2, 3, 12].map((inRow) => retryDelay({ ...failed, slowDown: true, inRow }, DEFAULT_BACKOFF, top))).toEqual([99, 199, 399, 60_000 - 1]);
    expect(retryDelay({ ...failed, slowDown: true }, { ...DEFAULT_BACKOFF, slowDownBaseMs: 500 }, top)).toBe(499);
    expect(retryDelay({ ...failed, slowDown: true }, { baseMs: 5, capMs: 50, maxRetries: 5 }, top)).toBe(4);
  });

  it('gives up at once on names that do not resolve, retries resets and timeouts', () => {
    expect(isRetryableNetworkError({ code: 'ENOTFOUND' })).toBe(false);
    expect(isRetryableNetworkError({ code: 'ECONNRESET' })).toBe(true);
    expect(isRetryableNetworkError({ code: 'UND_ERR_BODY_TIMEOUT' })).toBe(true);
  });
});

describe('API error bodies', () => {
  const body = JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'File not found: file_x' }, request_id: 'req_body' });

  it('quotes the API message, its type and the request-id header', () => {
    const { message, requestId } = describeErrorResponse(404, { 'request-id': 'req_header' }, body);
    expect(message).toBe('HTTP 404 not_found_error: File not found: file_x (request-id req_header)');
    expect(requestId).toBe('req_header');
  });

  it('falls back to the body request_id and summarizes HTML pages', () => {
    expect(describeErrorResponse(404, {}, body).requestId).toBe('req_body');
    expect(describeErrorResponse(502, {}, '<html><body><h1>Bad gateway</h1></body></html>').message).toBe('HTTP 502: Bad gateway');
  });

  it('makes retryable errors carry the requested wait and fatal ones the status', () => {
    const retry = errorForStatus(429, { 'retry-after': '3' }, '{}');
    expect(retry).toBeInstanceOf(RetryableError);
    expect((retry as RetryableError).retryAfterMs).toBe(3000);
    const fatal = errorForStatus(401, {}, JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }));
    expect(fatal).toBeInstanceOf(FatalError);
    expect(fatal.message).toContain('authentication_error: invalid x-api-key');
  });
});
