// Serves the built renderer (out/renderer) to the browser: the app shell is public, nothing outside its folder ever is.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Filehaul</title></head>
<body><h1>Filehaul</h1><p>The web UI is not built yet: run <code>npm run build</code>, then reload this page.</p>
<p>The API under <code>/api</code> works already.</p></body></html>
`;

export async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string, staticDir: string | null): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  const wantsIndex = pathname === '/' || pathname === '/index.html';
  const file = await resolveInside(staticDir, wantsIndex ? '/index.html' : pathname);
  if (file === null) {
    if (wantsIndex) return send(req, res, 200, 'text/html; charset=utf-8', NOT_BUILT_PAGE);
    return send(req, res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'content-length': file.size,
    // The shell and its assets change with every build; revalidating is cheap on loopback.
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/**
 * The regular file the URL path names, or null. Decoding happens after URL parsing (which already folded `..` and
 * `%2e%2e` segments), so an encoded slash like `..%2f` is caught by the prefix check below, and symlinks are
 * followed before checking, so a link inside the folder cannot point out of it.
 */
async function resolveInside(staticDir: string | null, pathname: string): Promise<{ path: string; size: number } | null> {
  if (staticDir === null) return null;
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (relative.includes('\0') || relative.includes('\\')) return null;
  try {
    const root = await realpath(staticDir);
    const candidate = path.resolve(root, `.${relative}`);
    if (!isInside(root, candidate)) return null;
    const real = await realpath(candidate);
    if (!isInside(root, real)) return null;
    const info = await stat(real);
    return info.isFile() ? { path: real, size: info.size } : null;
  } catch {
    return null;
  }
}

function isInside(root: string, candidate: string): boolean {
  return candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : text);
}
