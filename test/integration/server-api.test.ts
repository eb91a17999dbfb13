// The contract over HTTP: /api/rpc/<name> round trips, the REST routes' mapping to contract calls, and every error status.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContractError } from '../../src/shared/validate.ts';
import { api, call, downloadView, startTestServer, type TestServer } from './server-harness.ts';

let test: TestServer;
let logged: unknown[];
beforeEach(async () => {
  logged = [];
  test = await startTestServer({ onError: (error) => logged.push(error) });
});
afterEach(async () => {
  await test.close();
});

describe('POST /api/rpc/<name>', () => {
  it('round-trips a request through the handler as { result }', async () => {
    const view = downloadView('dl_1', 10);
    test.stub.replies.add = (args) => ({ added: [view], errors: [], echo: args });
    const response = await api(test, 'POST', '/api/rpc/add', { inputs: ['file_1', 'https://example.com/x'] });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({ result: { added: [view], errors: [], echo: { inputs: ['file_1', 'https://example.com/x'] } } });
    expect(test.stub.calls).toEqual([{ name: 'add', args: { inputs: ['file_1', 'https://example.com/x'] } }]);
  });

  it('answers { result: null } for requests without a reply, and takes an empty body as {}', async () => {
    const response = await call(test, 'POST', '/api/rpc/pauseAll', { token: test.server.token });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ result: null });
    expect(test.stub.calls).toEqual([{ name: 'pauseAll', args: {} }]);
  });

  it('refuses an unknown name or bad args with 400 and the validator’s message, before the handler', async () => {
    const unknown = await api(test, 'POST', '/api/rpc/deleteEverything', {});
    expect(unknown.status).toBe(400);
    expect(unknown.json().error).toMatch(/^unknown request/);
    const bad = await api(test, 'POST', '/api/rpc/add', { inputs: [] });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ error: 'add.inputs must be an array of 1–10000 non-empty strings of at most 2048 characters' });
    const extra = await api(test, 'POST', '/api/rpc/pause', { id: 'dl_1', force: true });
    expect(extra.json().error).toMatch(/pause does not take the field "force"/);
    const notJson = await call(test, 'POST', '/api/rpc/add', { token: test.server.token, body: '{"inputs": [' });
    expect(notJson.status).toBe(400);
    expect(notJson.json()).toEqual({ error: 'the request body is not valid JSON' });
    expect(test.stub.calls).toEqual([]);
  });

  it('passes a ContractError from the handler on as 400 with its message', async () => {
    test.stub.replies.pause = () => {
      throw new ContractError('no download dl_9');
    };
    const response = await api(test, 'POST', '/api/rpc/pause', { id: 'dl_9' });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({ error: 'no download dl_9' });
    expect(logged).toEqual([]);
  });

  it('turns any other failure into a generic 500 without message or stack, and reports it to onError', async () => {
    test.stub.replies.listDownloads = () => {
      throw new Error('database exploded at /home/user/data/filehaul.db');
    };
    const response = await api(test, 'POST', '/api/rpc/listDownloads', {});
    expect(response.status).toBe(500);
    expect(response.json()).toEqual({ error: 'internal error (see the server log)' });
    expect(response.text).not.toMatch(/exploded|filehaul\.db|at .*\.ts/);
    expect(logged).toHaveLength(1);
  });

  it('answers 405 with Allow for the wrong method, 404 JSON for unknown routes, 426 for /api/events without upgrade', async () => {
    const wrong = await call(test, 'GET', '/api/rpc/listDownloads', { token: test.server.token });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    const deleteList = await call(test, 'DELETE', '/api/downloads', { token: test.server.token });
    expect(deleteList.status).toBe(405);
    const unknown = await call(test, 'GET', '/api/nothing/here', { token: test.server.token });
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({ error: 'no such API route' });
    expect((await call(test, 'GET', '/api/events', { token: test.server.token })).status).toBe(426);
    expect(test.stub.calls).toEqual([]);
  });
});

describe('body size limit', () => {
  it('answers 413 to a declared body over 1 MiB without waiting for it', async () => {
    // Only the headers go out: the answer must come from Content-Length alone.
    const response = await call(test, 'POST', '/api/rpc/add', { token: test.server.token, headers: { 'content-length': String(1024 * 1024 + 1) } });
    expect(response.status).toBe(413);
    expect(response.json().error).toMatch(/larger than 1048576 bytes/);
    expect(test.stub.calls).toEqual([]);
  });

  it('accepts a body of exactly the limit', async () => {
    const small = await startTestServer({ bodyLimit: 100 });
    try {
      const body = JSON.stringify({ inputs: ['f'.repeat(100 - 15)] });
      expect(body.length).toBe(100);
      expect((await call(small, 'POST', '/api/rpc/add', { token: small.server.token, body })).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('counts the bytes of a chunked body (no Content-Length) as they arrive', async () => {
    const small = await startTestServer({ bodyLimit: 1000 });
    try {
      const big = await chunkedPost(small, '/api/downloads', JSON.stringify({ ids: ['f'.repeat(2000)] }));
      expect(big.status).toBe(413);
      expect(small.stub.calls).toEqual([]);
    } finally {
      await small.close();
    }
  });
});

describe('REST routes map to contract calls', () => {
  const cases: [string, string, unknown, string, unknown][] = [
    ['GET', '/api/downloads', undefined, 'listDownloads', {}],
    ['POST', '/api/downloads', { inputs: ['file_a'] }, 'add', { inputs: ['file_a'] }],
    ['POST', '/api/downloads', { ids: ['file_a', 'file_b'] }, 'add', { inputs: ['file_a', 'file_b'] }],
    ['POST', '/api/downloads', { urls: ['https://example.com/a.iso'] }, 'add', { inputs: ['https://example.com/a.iso'] }],
    ['POST', '/api/downloads', { ids: ['file_a'], urls: ['https://example.com/b'] }, 'add', { inputs: ['file_a', 'https://example.com/b'] }],
    ['POST', '/api/downloads/dl_7/pause', undefined, 'pause', { id: 'dl_7' }],
    ['POST', '/api/downloads/dl_7/resume', undefined, 'resume', { id: 'dl_7' }],
    ['POST', '/api/downloads/dl_7/cancel', undefined, 'cancel', { id: 'dl_7' }],
    ['POST', '/api/downloads/dl_7/retry', undefined, 'retry', { id: 'dl_7' }],
    ['POST', '/api/pause-all', undefined, 'pauseAll', {}],
    ['POST', '/api/resume-all', undefined, 'resumeAll', {}],
    ['GET', '/api/remote', undefined, 'listRemote', {}],
    ['GET', '/api/remote?limit=50&cursor=file_x', undefined, 'listRemote', { limit: 50, cursor: 'file_x' }],
    ['GET', '/api/archive/months', undefined, 'archiveMonths', {}],
    ['GET', '/api/archive?month=2025-03', undefined, 'archiveFiles', { month: '2025-03' }],
    ['GET', '/api/archive?month=2025-03&offset=100&limit=50&sort=size', undefined, 'archiveFiles', { month: '2025-03', offset: 100, limit: 50, sort: 'size' }],
    ['GET', '/api/archive?search=report&month=2025-03&limit=5', undefined, 'search', { text: 'report', month: '2025-03', limit: 5 }],
    ['GET', '/api/archive?search=2024', undefined, 'search', { text: '2024' }],
    ['POST', '/api/verify', undefined, 'verify', {}],
    ['POST', '/api/verify', { month: '2025-03' }, 'verify', { month: '2025-03' }],
    ['GET', '/api/settings', undefined, 'getSettings', {}],
    ['PATCH', '/api/settings', { connections: 4, limitRate: null }, 'setSettings', { connections: 4, limitRate: null }],
  ];

  it.each(cases)('%s %s %j → %s', async (method, path, body, name, args) => {
    const response = await api(test, method, path, body);
    expect(response.status).toBe(204);
    expect(test.stub.calls).toEqual([{ name, args }]);
  });

  it('replies with the bare result (no { result } wrapper), for curl | jq', async () => {
    const views = [downloadView('dl_1', 5), downloadView('dl_2', 7)];
    test.stub.replies.listDownloads = () => views;
    test.stub.replies.archiveMonths = () => [{ month: '2025-03', fileCount: 2, totalBytes: 10 }];
    expect((await api(test, 'GET', '/api/downloads')).json()).toEqual(views);
    expect((await api(test, 'GET', '/api/archive/months')).json()).toEqual([{ month: '2025-03', fileCount: 2, totalBytes: 10 }]);
  });

  it('refuses malformed REST input with 400 and a message naming the parameter', async () => {
    const expectations: [string, string, unknown, RegExp][] = [
      ['POST', '/api/downloads', { files: ['a'] }, /takes "inputs", "ids" or "urls", not "files"/],
      ['POST', '/api/downloads', { ids: 'file_a' }, /"ids" must be an array of strings/],
      ['POST', '/api/downloads', ['file_a'], /takes a JSON object/],
      ['POST', '/api/downloads', { ids: [] }, /add.inputs/],
      ['POST', '/api/downloads/..%2Fetc/pause', undefined, /pause.id must be a download id/],
      ['GET', '/api/archive', undefined, /archiveFiles.month is required/],
      ['GET', '/api/archive?month=2025-3', undefined, /archiveFiles.month must be a month as YYYY-MM/],
      ['GET', '/api/archive?month=2025-03&offset=-1', undefined, /archiveFiles.offset/],
      ['GET', '/api/archive?month=2025-03&limit=lots', undefined, /archiveFiles.limit/],
      ['GET', '/api/archive?month=2025-03&__proto__=x', undefined, /does not take the field "__proto__"/],
      ['GET', '/api/archive?month=2025-03&color=red', undefined, /does not take the field "color"/],
      ['GET', '/api/archive?search=a&sort=name', undefined, /search does not take the field "sort"/],
      ['PATCH', '/api/settings', { dataDir: '/' }, /setSettings does not take the field "dataDir"/],
    ];
    for (const [method, path, body, message] of expectations) {
      const response = await api(test, method, path, body);
      expect(response.status, `${method} ${path}`).toBe(400);
      expect(response.json().error).toMatch(message);
    }
    expect(test.stub.calls).toEqual([]);
  });
});

/** A POST whose body goes out as chunks with no Content-Length, so the server must count as it reads. */
async function chunkedPost(test: TestServer, path: string, body: string) {
  const { request } = await import('node:http');
  return new Promise<{ status: number }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: test.port, method: 'POST', path, headers: { host: test.host, authorization: `Bearer ${test.server.token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 100) req.write(body.slice(i, i + 100));
    req.end();
  });
}
