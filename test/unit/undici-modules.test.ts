// The client loads undici's modules by path to start faster: each must be exactly what the package exports, so an
// undici release that moves or renames a file fails here instead of in a user's download.
import { createRequire } from 'node:module';
import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { undiciModules } from '../../src/main/engine/http/client.ts';

const require = createRequire(import.meta.url);

describe('undici modules loaded by path', () => {
  it('are the Agent, EnvHttpProxyAgent and redirect interceptor the package exports', () => {
    expect(undiciModules.agent()).toBe(undici.Agent);
    expect(undiciModules.envHttpProxyAgent()).toBe(undici.EnvHttpProxyAgent);
    expect(undiciModules.redirectInterceptor()).toBe(undici.interceptors.redirect);
  });

  it('include the request function behind the package\'s request() and Dispatcher#request', () => {
    const api = require('undici/lib/api/index.js') as { request: unknown };
    expect(undiciModules.request()).toBe(api.request);
    expect(undiciModules.request()).toBe((undici.Dispatcher.prototype as unknown as { request: unknown }).request);
  });
});
