// The client loads undici's modules by path to start faster: each must be exactly what the package exports, so an
// undici release that moves or renames a file fails here instead of in a user's download.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { undiciModules } from '../../src/main/engine/http/client.ts';

const require = createRequire(import.meta.url);

describe('undici modules loaded by path', () => {
  it('are the Agent and EnvHttpProxyAgent the package exports', () => {
    expect(undiciModules.agent()).toBe(undici.Agent);
    expect(undiciModules.envHttpProxyAgent()).toBe(undici.EnvHttpProxyAgent);
  });

  it('include the request function behind the package\'s request() and Dispatcher#request', () => {
    const api = require('undici/lib/api/index.js') as { request: unknown };
    expect(undiciModules.request()).toBe(api.request);
    expect(undiciModules.request()).toBe((undici.Dispatcher.prototype as unknown as { request: unknown }).request);
  });
});

describe('the HTTP/2 half of undici', () => {
  /** Runs `code` (an ES module) in a fresh Node, so that nothing this test process loaded is in its module cache. */
  function runFresh(code: string, env: Record<string, string> = {}): string {
    return execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, ...env } }).trim();
  }
  const clientModule = JSON.stringify(new URL('../../src/main/engine/http/client.ts', import.meta.url).href);

  it('is not loaded, nor node:http2 or tls, by an Agent that fetches over plain HTTP', () => {
    // node:http by getBuiltinModule: imported as an ES module it loads Node's own bundled undici, tls and http2.
    const output = runFresh(`
      const http = process.getBuiltinModule('node:http');
      const { createHttpClient } = await import(${clientModule});
      const server = http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const client = createHttpClient({ connectTimeoutMs: 5000, readTimeoutMs: 5000 }, {});
      const response = await client.get('http://127.0.0.1:' + server.address().port + '/', {});
      const text = await response.body.text();
      await client.close();
      server.close();
      const loaded = process.moduleLoadList.filter((name) => /^NativeModule (http2|tls)$/.test(name));
      console.log(JSON.stringify({ status: response.status, text, loaded }));
    `);
    expect(JSON.parse(output)).toEqual({ status: 200, text: 'ok', loaded: [] });
  });

  it('loads when undici does call it: an Agent that allows HTTP/2 still speaks it', () => {
    // Our own client never allows HTTP/2; this shows the stand-in would not break undici if something did.
    const cert = fileURLToPath(new URL('../fixtures/tls/localhost-cert.pem', import.meta.url));
    const key = fileURLToPath(new URL('../fixtures/tls/localhost-key.pem', import.meta.url));
    const output = runFresh(`
      import { readFileSync } from 'node:fs';
      const { undiciModules } = await import(${clientModule});
      const Agent = undiciModules.agent();
      const http2 = await import('node:http2');
      const server = http2.createSecureServer({ key: readFileSync(${JSON.stringify(key)}), cert: readFileSync(${JSON.stringify(cert)}) }, (req, res) => res.end('over ' + req.httpVersion));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const agent = new Agent({ allowH2: true });
      const response = await undiciModules.request().call(agent, { origin: 'https://127.0.0.1:' + server.address().port, path: '/', method: 'GET' });
      console.log(await response.body.text());
      await agent.close();
      server.close();
    `, { NODE_EXTRA_CA_CERTS: cert });
    expect(output).toBe('over 2.0');
  });
});
