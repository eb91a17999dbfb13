// The app shell over HTTP: content types, security headers, the "run npm run build" page, and no way out of the folder.
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from './server-harness.ts';

const SECRET = 'top-secret-outside-the-static-dir';
let base: string;
let test: TestServer;

beforeEach(async () => {
  // base/secret.txt sits beside the served folder base/renderer; a symlink inside points at it.
  base = await mkdtemp(path.join(tmpdir(), 'filehaul-static-'));
  const root = path.join(base, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(base, 'secret.txt'), SECRET);
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>Filehaul</title><script type="module" src="./assets/app.js"></script>');
  await writeFile(path.join(root, 'assets', 'app.js'), 'console.log("app")');
  await writeFile(path.join(root, 'assets', 'style.css'), 'body{}');
  await writeFile(path.join(root, 'assets', 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(root, 'assets', 'data.weird'), 'x');
  await symlink(path.join(base, 'secret.txt'), path.join(root, 'link-out.txt'));
  test = await startTestServer({ staticDir: root });
});

afterEach(async () => {
  await test.close();
  await rm(base, { recursive: true, force: true });
});

describe('static files', () => {
  it('serves index.html for / with the security headers', async () => {
    const page = await call(test, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>Filehaul</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(
      `default-src 'self'; connect-src 'self' ws://${test.host}; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`,
    );
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBe('DENY');
  });

  it('sends each asset with its content type', async () => {
    const types: [string, string][] = [
      ['/assets/app.js', 'text/javascript; charset=utf-8'],
      ['/assets/style.css', 'text/css; charset=utf-8'],
      ['/assets/icon.svg', 'image/svg+xml'],
      ['/assets/data.weird', 'application/octet-stream'],
      ['/index.html', 'text/html; charset=utf-8'],
    ];
    for (const [file, type] of types) {
      const response = await call(test, 'GET', file);
      expect(response.status, file).toBe(200);
      expect(response.headers['content-type'], file).toBe(type);
    }
    expect((await call(test, 'GET', '/assets/app.js')).text).toBe('console.log("app")');
  });

  it('answers HEAD without a body, 404 for missing files and directories, 405 for other methods', async () => {
    const head = await call(test, 'HEAD', '/assets/app.js');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String('console.log("app")'.length));
    expect(head.text).toBe('');
    expect((await call(test, 'GET', '/nope.js')).status).toBe(404);
    expect((await call(test, 'GET', '/assets')).status).toBe(404);
    expect((await call(test, 'GET', '/assets/')).status).toBe(404);
    const post = await call(test, 'POST', '/index.html', { body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('never serves a file outside its folder, however the path is spelled', async () => {
    const attempts = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/link-out.txt',
      `/${encodeURIComponent(path.join(base, 'secret.txt'))}`,
      `/${path.join(base, 'secret.txt')}`,
      '//' + path.join(base, 'secret.txt'),
      '/secret.txt%00.js',
      '/%ZZ',
    ];
    for (const attempt of attempts) {
      const response = await call(test, 'GET', attempt);
      expect(response.status, attempt).toBeGreaterThanOrEqual(400);
      expect(response.text, attempt).not.toContain(SECRET);
    }
  });

  it('serves a page saying how to build the UI when there is no build', async () => {
    const bare = await startTestServer({ staticDir: null });
    const missing = await startTestServer({ staticDir: path.join(base, 'does-not-exist') });
    try {
      for (const server of [bare, missing]) {
        const page = await call(server, 'GET', '/');
        expect(page.status).toBe(200);
        expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(page.text).toContain('npm run build');
        expect((await call(server, 'GET', '/assets/app.js')).status).toBe(404);
      }
    } finally {
      await bare.close();
      await missing.close();
    }
  });
});
