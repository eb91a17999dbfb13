// A plain URL that redirects: one download follows the chain once, sends every later range to where it ended, and goes back through the link when that URL expires.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBytes } from '../fixtures/make-bytes.ts';
import { FILE_PATH, startRedirectOrigin, type RedirectOrigin, type RedirectOriginOptions } from '../fixtures/redirect-origin.ts';
import { startHarness, type Harness } from './engine-harness.ts';

const MiB = 1024 * 1024;
/**
 * No retries allowed: a refusal of the remembered URL that counted as a failure would fail the download. No hedges
 * either: on a loaded machine one would be a retry event and a request of its own, and these tests count both.
 */
const NO_RETRIES = { connections: 8, backoff: { baseMs: 5, capMs: 50, maxRetries: 0 }, hedgeAfterMs: 0 };
let harness: Harness;
let origins: RedirectOrigin[] = [];

beforeEach(async () => {
  harness = await startHarness();
});
afterEach(async () => {
  await Promise.all(origins.map((origin) => origin.close()));
  origins = [];
  await harness.close();
});

async function origin(options?: RedirectOriginOptions): Promise<RedirectOrigin> {
  const started = await startRedirectOrigin(options);
  origins.push(started);
  return started;
}

/** The file's requests on `server`, and the signature each carried. */
function fileRequests(server: RedirectOrigin) {
  return server.requests.filter((entry) => entry.pathname === FILE_PATH).map((entry) => ({ ...entry, sig: new URL(entry.path, server.url).searchParams.get('sig') }));
}

/** Everything the run said (events) and wrote to its log: a signed URL's query must be in neither. */
function eventsAndLogs(): string {
  const logsDir = path.join(harness.dataDir, 'logs');
  const logs = readdirSync(logsDir).map((name) => readFileSync(path.join(logsDir, name), 'utf8'));
  return JSON.stringify(harness.events) + logs.join('\n');
}

describe('a plain URL that redirects, in one segmented download', () => {
  it('follows a 302 once; every range after the probe goes straight to where it ended, and the file is byte-identical', async () => {
    const bytes = makeBytes(32 * MiB + 777, 11);
    const server = await origin();
    server.setFile(bytes);
    server.redirect('/start', () => server.signedUrl());
    const [result] = await harness.get([`${server.url}/start`], { connections: 16 });
    expect(result.outcome.state).toBe('done');
    expect(result.bytes!.equals(bytes)).toBe(true);
    expect(server.hits('/start')).toBe(1);
    expect(server.requests.find((entry) => entry.pathname === '/start')!.range).toBe('bytes=0-');
    const content = fileRequests(server);
    expect(content.length).toBeGreaterThanOrEqual(16);
    // One signature, the one the single redirect handed out: nothing else was followed.
    expect(new Set(content.map((entry) => entry.sig))).toEqual(new Set(['s1']));
    const logged = eventsAndLogs();
    expect(logged).toContain(FILE_PATH);
    expect(logged).not.toContain('sig=');
  });

  it('follows a chain of two redirects once: each hop is made one time', async () => {
    const bytes = makeBytes(12 * MiB + 5, 12);
    const server = await origin();
    server.setFile(bytes);
    server.redirect('/start', () => '/middle');
    server.redirect('/middle', () => server.signedUrl(), 307);
    const [result] = await harness.get([`${server.url}/start`], { connections: 8 });
    expect(result.bytes!.equals(bytes)).toBe(true);
    expect([server.hits('/start'), server.hits('/middle')]).toEqual([1, 1]);
    expect(fileRequests(server).length).toBeGreaterThanOrEqual(8);
  });

  it('follows a redirect to another origin once; that origin serves every range', async () => {
    const bytes = makeBytes(12 * MiB + 9, 13);
    const link = await origin();
    const cdn = await origin();
    cdn.setFile(bytes);
    link.redirect('/start', () => cdn.signedUrl());
    const [result] = await harness.get([`${link.url}/start`], { connections: 8 });
    expect(result.bytes!.equals(bytes)).toBe(true);
    expect(link.requests.map((entry) => entry.pathname)).toEqual(['/start']);
    expect(fileRequests(cdn).length).toBeGreaterThanOrEqual(8);
    expect(fileRequests(cdn).every((entry) => entry.sig === 's1')).toBe(true);
  });

  it('goes back through the link when the remembered URL answers 403 (expired), and no retry is counted', async () => {
    // Each signature serves one request: the probe uses the first, and every later request to it is refused.
    const bytes = makeBytes(12 * MiB + 3, 14);
    const server = await origin({ signatureUses: 1 });
    server.setFile(bytes);
    server.redirect('/start', () => server.signedUrl());
    const [result] = await harness.get([`${server.url}/start`], NO_RETRIES);
    expect(result.outcome.state).toBe('done');
    expect(result.bytes!.equals(bytes)).toBe(true);
    const forbidden = fileRequests(server).filter((entry) => entry.status === 403);
    expect(forbidden.length).toBeGreaterThanOrEqual(1);
    // Each refusal sent its request back through the link once (a request may also go there directly when another
    // one had just forgotten the URL); each fresh signature then served its request.
    expect(server.hits('/start')).toBeGreaterThanOrEqual(1 + forbidden.length);
    expect(fileRequests(server).filter((entry) => entry.status === 206 || entry.status === 200)).toHaveLength(server.hits('/start'));
    expect(harness.events.filter((event) => event.type === 'retry')).toEqual([]);
    expect(eventsAndLogs()).not.toContain('sig=');
  });

  it('goes back through the link when the remembered host resets the connection', async () => {
    const bytes = makeBytes(12 * MiB + 1, 15);
    const link = await origin();
    const cdn = await origin({ signatureUses: 1, expired: 'reset' });
    cdn.setFile(bytes);
    link.redirect('/start', () => cdn.signedUrl());
    const [result] = await harness.get([`${link.url}/start`], NO_RETRIES);
    expect(result.outcome.state).toBe('done');
    expect(result.bytes!.equals(bytes)).toBe(true);
    const resets = fileRequests(cdn).filter((entry) => entry.status === 0);
    expect(resets.length).toBeGreaterThanOrEqual(1);
    expect(link.hits('/start')).toBeGreaterThanOrEqual(1 + resets.length);
    expect(harness.events.filter((event) => event.type === 'retry')).toEqual([]);
  });

  it('fails at once with a clear message past 5 redirects, and downloads through exactly 5', async () => {
    const bytes = makeBytes(3 * MiB, 16);
    const server = await origin();
    server.setFile(bytes);
    // /r0 → /r1 → … → /r5 → the file: six redirects from /r0, five from /r1.
    for (let hop = 0; hop < 5; hop++) server.redirect(`/r${hop}`, () => `/r${hop + 1}`);
    server.redirect('/r5', () => server.signedUrl());
    const [tooMany] = await harness.get([`${server.url}/r0`]);
    expect(tooMany.outcome.state).toBe('failed');
    const message = tooMany.outcome.state === 'failed' ? tooMany.outcome.message : '';
    expect(message).toContain(`too many redirects: ${server.url}/r0 redirected more than 5 times`);
    expect(message).not.toContain('sig=');
    // Not retried: a redirect loop does not heal.
    expect(server.hits('/r0')).toBe(1);
    expect(fileRequests(server)).toEqual([]);

    const [five] = await harness.get([`${server.url}/r1`], { connections: 4 });
    expect(five.outcome.state).toBe('done');
    expect(five.bytes!.equals(bytes)).toBe(true);
    expect([1, 2, 3, 4, 5].map((hop) => server.hits(`/r${hop}`))).toEqual([2, 2, 2, 2, 2]);
  });
});
