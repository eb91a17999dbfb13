// Every request can go through a proxy: an explicit --proxy, or HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../src/main/engine/http/client.ts';
import { startProxy, type TestProxy } from '../fixtures/connect-proxy.ts';
import { makeBytes, startOrigin, type Origin } from '../fixtures/files-api-origin.ts';

let origin: Origin;
let proxy: TestProxy;
const bytes = makeBytes(300_000, 9);

beforeEach(async () => {
  origin = await startOrigin({ files: [{ id: 'file_proxy', filename: 'p.bin', bytes, createdAt: '2025-01-01T00:00:00Z' }] });
  proxy = await startProxy();
});
afterEach(async () => {
  await proxy.close();
  await origin.close();
});

async function fetchThrough(client: ReturnType<typeof createHttpClient>): Promise<Buffer> {
  const response = await client.get(`${origin.url}/dl/file_proxy`, {});
  expect(response.status).toBe(200);
  return Buffer.from(await response.body.arrayBuffer());
}

describe('proxies', () => {
  it('sends requests through an explicit proxy', async () => {
    const client = createHttpClient({ connectTimeoutMs: 2000, readTimeoutMs: 5000, proxy: proxy.url }, {});
    expect((await fetchThrough(client)).equals(bytes)).toBe(true);
    await client.close();
    expect(proxy.forwarded.length + proxy.tunnels.length).toBe(1);
  });

  it('follows HTTP_PROXY from the environment, and NO_PROXY exempts hosts', async () => {
    const viaEnv = createHttpClient({ connectTimeoutMs: 2000, readTimeoutMs: 5000 }, { HTTP_PROXY: proxy.url });
    expect((await fetchThrough(viaEnv)).equals(bytes)).toBe(true);
    await viaEnv.close();
    expect(proxy.forwarded).toHaveLength(1);

    const exempt = createHttpClient({ connectTimeoutMs: 2000, readTimeoutMs: 5000 }, { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    expect((await fetchThrough(exempt)).equals(bytes)).toBe(true);
    await exempt.close();
    expect(proxy.forwarded).toHaveLength(1);
  });

  it('goes direct when no proxy is configured', async () => {
    const direct = createHttpClient({ connectTimeoutMs: 2000, readTimeoutMs: 5000 }, {});
    expect((await fetchThrough(direct)).equals(bytes)).toBe(true);
    await direct.close();
    expect(proxy.forwarded.length + proxy.tunnels.length).toBe(0);
  });
});
