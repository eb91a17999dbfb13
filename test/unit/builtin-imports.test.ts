// Keeps ES imports of node:http out of the code the commands start with.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Importing a Node builtin as an ES module builds a facade that reads every one of its exports once, and that
 * triggers their lazy loading. For node:http that is Node's own bundled undici with tls and http2: ~50 ms of
 * start-up (node:fs and node:util lose ~6 ms each the same way, too little to bend the code for).
 * `process.getBuiltinModule` returns the plain module instead; `import type` costs nothing.
 */
const LAZY_BUILTINS = /^import\s+(?!type\b)[^;]*?\sfrom\s+'node:(http)'/gm;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|mjs)$/.test(name))
    .map((name) => path.join(dir, name));
}

describe('node:http', () => {
  it('is taken with process.getBuiltinModule, not imported, in src/main and bin', () => {
    const offenders = [...sourceFiles('src/main'), ...sourceFiles('bin')].flatMap((file) =>
      [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(LAZY_BUILTINS)].map((match) => `${file}: ${match[0]}`),
    );
    expect(offenders).toEqual([]);
  });

  it('would be caught here when imported (the pattern matches what it must)', () => {
    const sample = "import type { IncomingMessage } from 'node:http';\nimport {\n  createServer,\n} from 'node:http';\nimport path from 'node:path';\n";
    expect([...sample.matchAll(LAZY_BUILTINS)].map((match) => match[1])).toEqual(['http']);
  });
});
