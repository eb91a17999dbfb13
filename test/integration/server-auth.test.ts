// The serve door's locks: the token on every /api route and the WebSocket, same-origin only, and the Host check against DNS rebinding.
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUEST_NAMES } from '../../src/shared/contract.ts';
import { EVENTS_PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../../src/main/server/auth.ts';
import { call, openEvents, startTestServer, type RawResponse, type TestServer } from './server-harness.ts';

const API_ROUTES: [string, string][] = [
  ['GET', '/api/downloads'],
  ['POST', '/api/downloads'],
  ['POST', '/api/downloads/dl_1/pause'],
  ['POST', '/api/downloads/dl_1/resume'],
  ['POST', '/api/downloads/dl_1/cancel'],
  ['POST', '/api/downloads/dl_1/retry'],
  ['POST', '/api/pause-all'],
  ['POST', '/api/resume-all'],
  ['GET', '/api/remote'],
  ['GET', '/api/archive/months'],
  ['GET', '/api/archive?month=2025-01'],
  ['POST', '/api/verify'],
  ['GET', '/api/settings'],
  ['PATCH', '/api/settings'],
  ['GET', '/api/events'],
  ['GET', '/api'],
  ['GET', '/api/no-such-route'],
  ...REQUEST_NAMES.map((name): [string, string] => ['POST', `/api/rpc/${name}`]),
];

let test: TestServer;
beforeEach(async () => {
  test = await startTestServer();
});
afterEach(async () => {
  await test.close();
});

/** Sends bytes on a fresh socket and collects everything until the server closes it. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

function expectRefused(response: RawResponse, status: number): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof response.json().error).toBe('string');
}

describe('the access token', () => {
  it('is 32 random bytes in base64url, different for every server', async () => {
    const other = await startTestServer();
    try {
      expect(test.server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(other.server.token).not.toBe(test.server.token);
    } finally {
      await other.close();
    }
  });

  it.each(API_ROUTES)('%s %s answers 401 without a token and with a wrong one', async (method, path) => {
    const body = method === 'GET' ? undefined : '{}';
    expectRefused(await call(test, method, path, { body }), 401);
    expectRefused(await call(test, method, path, { body, token: 'wrong' }), 401);
    expectRefused(await call(test, method, path, { body, token: `${test.server.token}x` }), 401);
    expectRefused(await call(test, method, path, { body, headers: { authorization: test.server.token } }), 401);
    expectRefused(await call(test, method, path, { body, headers: { authorization: `Basic ${test.server.token}` } }), 401);
    expect(test.stub.calls).toEqual([]);
  });

  it('accepts Authorization: Bearer <token> (any case of the scheme)', async () => {
    test.stub.replies.listDownloads = () => [];
    const ok = await call(test, 'GET', '/api/downloads', { token: test.server.token });
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual([]);
    const lower = await call(test, 'GET', '/api/downloads', { headers: { authorization: `bearer ${test.server.token}` } });
    expect(lower.status).toBe(200);
    expect(test.stub.calls.map((c) => c.name)).toEqual(['listDownloads', 'listDownloads']);
  });

  it('uses the token it was given', async () => {
    const fixed = await startTestServer({ token: 'fixed-token-for-this-test' });
    try {
      expect(fixed.server.token).toBe('fixed-token-for-this-test');
      expect((await call(fixed, 'GET', '/api/settings', { token: 'fixed-token-for-this-test' })).status).toBe(204);
    } finally {
      await fixed.close();
    }
  });

  it('leaves the app shell public, so the page can load and read #token', async () => {
    const page = await call(test, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });

  it('never appears in a response, whatever the request', async () => {
    const { token } = test.server;
    test.stub.replies.getSettings = () => ({ apiKeySet: true });
    test.stub.replies.listDownloads = () => {
      throw new Error(`something broke near ${token}`);
    };
    const responses = [
      await call(test, 'GET', '/'),
      await call(test, 'GET', '/missing.js'),
      await call(test, 'GET', '/api/settings', { token }),
      await call(test, 'GET', '/api/downloads', { token }),
      await call(test, 'POST', `/api/rpc/${token}`, { token, body: '{}' }),
      await call(test, 'POST', '/api/rpc/add', { token, body: JSON.stringify({ inputs: [token], [token]: 1 }) }),
      await call(test, 'GET', `/api/${token}`, { token }),
      await call(test, 'GET', '/api/downloads', { token: `${token}0` }),
      await call(test, 'GET', '/api/downloads', { token, headers: { origin: 'http://evil.example' } }),
    ];
    for (const response of responses) {
      expect(response.text).not.toContain(token);
      expect(JSON.stringify(response.headers)).not.toContain(token);
    }
  });
});

describe('same origin only', () => {
  it('refuses a request from another origin with 403, even with the token', async () => {
    for (const origin of ['http://evil.example', `http://${test.host}.evil.example`, 'null', `https://${test.host}`, `http://localhost:${test.port + 1}`]) {
      expectRefused(await call(test, 'GET', '/api/downloads', { token: test.server.token, headers: { origin } }), 403);
      expectRefused(await call(test, 'POST', '/api/rpc/pauseAll', { token: test.server.token, body: '{}', headers: { origin } }), 403);
    }
    expectRefused(await call(test, 'GET', '/', { headers: { origin: 'http://evil.example' } }), 403);
    expectRefused(await call(test, 'GET', '/api/downloads', { token: test.server.token, headers: { 'sec-fetch-site': 'cross-site' } }), 403);
    expect(test.stub.calls).toEqual([]);
  });

  it('accepts its own origin', async () => {
    const response = await call(test, 'POST', '/api/rpc/pauseAll', { token: test.server.token, body: '{}', headers: { origin: `http://${test.host}`, 'sec-fetch-site': 'same-origin' } });
    expect(response.status).toBe(200);
  });
});

describe('the Host check (DNS rebinding)', () => {
  it('refuses a foreign name, a wrong port and a missing Host', async () => {
    for (const host of [`evil.example:${test.port}`, `attacker.localhost.evil:${test.port}`, `127.0.0.1:${test.port + 1}`, 'evil.example']) {
      expectRefused(await call(test, 'GET', '/api/downloads', { token: test.server.token, headers: { host } }), 403);
      expectRefused(await call(test, 'GET', '/', { headers: { host } }), 403);
    }
    // HTTP/1.0 may leave Host out entirely (node's client would fill it in, so speak raw).
    const raw = await rawExchange(test.port, `GET /api/downloads HTTP/1.0\r\nAuthorization: Bearer ${test.server.token}\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.[01] 403 /);
    expect(test.stub.calls).toEqual([]);
  });

  it('accepts the bound address, localhost and IP literals on its port', async () => {
    for (const host of [`127.0.0.1:${test.port}`, `localhost:${test.port}`, `LOCALHOST:${test.port}`, `[::1]:${test.port}`]) {
      expect((await call(test, 'GET', '/api/settings', { token: test.server.token, headers: { host } })).status).toBe(204);
    }
  });
});

describe('the events WebSocket', () => {
  async function refusedUpgrade(options: Parameters<typeof openEvents>[1]): Promise<{ status: number; body: string }> {
    try {
      const events = await openEvents(test, options);
      await events.close();
    } catch (error) {
      return error as { status: number; body: string };
    }
    throw new Error('the upgrade was accepted');
  }

  it('opens with the token as a subprotocol and selects the plain protocol, never echoing the token', async () => {
    const events = await openEvents(test);
    try {
      expect(events.socket.protocol).toBe(EVENTS_PROTOCOL);
    } finally {
      await events.close();
    }
  });

  it('opens for a client that offers only the token protocol (selecting it, as browsers require one back)', async () => {
    const events = await openEvents(test, { protocols: [`${TOKEN_PROTOCOL_PREFIX}${test.server.token}`] });
    try {
      expect(events.socket.protocol).toBe(`${TOKEN_PROTOCOL_PREFIX}${test.server.token}`);
    } finally {
      await events.close();
    }
  });

  it('opens with Authorization: Bearer (for scripts)', async () => {
    const events = await openEvents(test, { protocols: [], headers: { authorization: `Bearer ${test.server.token}` } });
    await events.close();
  });

  it('refuses a missing or wrong token with 401, and does not take it from the query string', async () => {
    const cases = [
      { protocols: [EVENTS_PROTOCOL] },
      { protocols: [EVENTS_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}wrong`] },
      { protocols: [EVENTS_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${test.server.token.slice(1)}`] },
      { protocols: [EVENTS_PROTOCOL], path: `/api/events?token=${test.server.token}` },
      { protocols: [], headers: { authorization: 'Bearer wrong' } },
    ];
    for (const options of cases) {
      const refusal = await refusedUpgrade(options);
      expect(refusal.status).toBe(401);
      expect(JSON.parse(refusal.body).error).toMatch(/token/);
    }
  });

  it('refuses another origin and a rebinding Host with 403, and other paths with 404', async () => {
    expect((await refusedUpgrade({ headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect((await refusedUpgrade({ headers: { host: `evil.example:${test.port}` } })).status).toBe(403);
    const elsewhere = await refusedUpgrade({ path: `/api/other?token=${test.server.token}` });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body).not.toContain(test.server.token);
  });

  it('accepts its own origin', async () => {
    const events = await openEvents(test, { headers: { origin: `http://${test.host}` } });
    await events.close();
  });
});
