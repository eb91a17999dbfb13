// Hostile input, property-based: file ids, URLs, metadata JSON, Content-Range and config.ini get a specific error or a sound value.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/main/config/load-settings.ts';
import { IniSyntaxError, parseIni } from '../../src/main/config/ini.ts';
import { SettingsError } from '../../src/main/config/settings.ts';
import { FatalError } from '../../src/main/engine/errors.ts';
import type { HttpClient } from '../../src/main/engine/http/client.ts';
import { contentRangeMismatch, parseContentRange } from '../../src/main/engine/http/content-range.ts';
import { FilesApiSource, parseFileMetadata } from '../../src/main/sources/files-api.ts';
import { parseDownloadUrl, UrlSource } from '../../src/main/sources/url.ts';
import { snapshotTree, tempDir } from './proof-helpers.ts';

const BASE = 'https://api.example.test';
const KEY = 'sk-ant-hostile-input-key';
/** Reproducible runs: a failure prints its seed and shrunk counterexample either way. */
const RUNS = { numRuns: 400, seed: 20250601 };

/** Strings a user or a server could plausibly send, weighted towards the characters that break paths and parsers. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('.', '/', '\\', '%', '2', 'e', 'f', '?', '#', ' ', '\n', '\u0000', ':', 'C', 'a', '_', '~', '😀', '\u202e'), maxLength: 24 }),
  fc.constantFrom('', '.', '..', '...', '../../etc/passwd', '..\\..\\boot.ini', '%2e%2e', 'file_%2F..', 'C:\\x', 'file\u0000x', 'a'.repeat(257), 'file_abc/../../v1/admin', 'CON', 'file_ok'),
);

/** The URL an id's requests go to, as undici will send it (WHATWG URL parsing resolves dot segments). */
function requestedPaths(source: FilesApiSource): { metadata: string; content: string } {
  let metadata = '';
  const http: HttpClient = {
    get: async (url) => {
      metadata = new URL(url).pathname;
      throw new FatalError('stop here');
    },
    close: async () => {},
  };
  void source.describe(http, new AbortController().signal).catch(() => {});
  return { metadata, content: new URL(source.contentRequest().url).pathname };
}

/** A file id is either refused with a sentence naming the problem, or it stays inside its own path segment. */
function checkFileId(id: string): void {
  let source: FilesApiSource;
  try {
    source = new FilesApiSource(id, BASE, KEY);
  } catch (error) {
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toMatch(/^".*" is not a file id: (the file id is empty|the file id is longer than 256 characters|a file id cannot contain spaces, slashes, "\?", "#" or "%"|the file id contains control characters|a file id cannot be "\." or "\.\.")\.$/su);
    return;
  }
  const paths = requestedPaths(source);
  const segment = encodeURIComponent(id);
  expect(paths.content).toBe(`/v1/files/${segment}/content`);
  expect(paths.metadata).toBe(`/v1/files/${segment}`);
  expect(decodeURIComponent(paths.content.split('/')[3])).toBe(id);
}

describe('file ids', () => {
  it('any string is refused with a specific reason or requested inside its own path segment', () => {
    fc.assert(fc.property(nasty, checkFileId), RUNS);
  });

  // Found by this suite: "." and ".." passed fileIdProblem and URL parsing resolved them as path segments
  // (`filehaul get ..` asked GET /v1/ with the key). They are refused now.
  it('"." and ".." are refused or stay inside their own path segment', () => {
    checkFileId('.');
    checkFileId('..');
  });
});

describe('URLs', () => {
  const urlish = fc.oneof(
    nasty,
    fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true, withPort: true, withIPv6: true } }),
    fc.tuple(fc.constantFrom('http://', 'https://', 'ftp://', 'file://', 'javascript:', 'HTTPS://', 'http:/', 'data:'), nasty).map(([scheme, rest]) => scheme + rest),
  );
  it('parseDownloadUrl gives an http(s) URL or one of its two specific errors; the display name hides secrets', () => {
    fc.assert(
      fc.property(urlish, (text) => {
        let url: URL;
        try {
          url = parseDownloadUrl(text);
        } catch (error) {
          expect(error).toBeInstanceOf(FatalError);
          expect((error as Error).message).toMatch(/^(".*" is neither a file id nor a valid URL\.|Only http:\/\/ and https:\/\/ URLs can be downloaded \(got .*\)\.)$/su);
          return;
        }
        expect(['http:', 'https:']).toContain(url.protocol);
        const source = new UrlSource(text);
        if (url.password) expect(source.displayName).not.toContain(url.password);
        if (url.search.length > 1) expect(source.displayName).not.toContain(url.search);
      }),
      RUNS,
    );
  });
});

describe('metadata JSON', () => {
  const hugeString = fc.integer({ min: 0, max: 2_000_000 }).map((n) => 'x'.repeat(n));
  const anyValue = fc.oneof(fc.anything(), hugeString, fc.double(), fc.integer(), fc.constantFrom(null, true, false, -1, 2 ** 53, 1.5, '12', 'NaN', '2025-13-45'));
  const fields = fc.record(
    { id: anyValue, filename: fc.oneof(anyValue, nasty), size_bytes: anyValue, created_at: fc.oneof(anyValue, fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'Invalid' : d.toISOString()))), mime_type: anyValue, downloadable: anyValue },
    { requiredKeys: [] },
  );
  const body = fc.oneof(fields.map((value) => JSON.stringify(value)), fc.json(), fc.string({ maxLength: 100 }), fc.constantFrom('', 'null', '[]', '"file"', '{', '<html>502</html>'));

  it('parseFileMetadata returns sound details or throws FatalError with a specific message, never anything else', () => {
    fc.assert(
      fc.property(body, (text) => {
        let details;
        try {
          details = parseFileMetadata('file_hostile', text);
        } catch (error) {
          expect(error).toBeInstanceOf(FatalError);
          expect((error as Error).message).toMatch(/^(The metadata of file_hostile (is not JSON \(got .*\)|is not a JSON object|has no valid size_bytes \(got .*\))\.|file_hostile is not downloadable: .*)$/su);
          expect((error as Error).message.length).toBeLessThan(400);
          return;
        }
        expect(Number.isSafeInteger(details.sizeBytes) && details.sizeBytes! >= 0).toBe(true);
        expect(details.filename === null || (typeof details.filename === 'string' && details.filename.length > 0)).toBe(true);
        expect(details.mimeType === null || (typeof details.mimeType === 'string' && details.mimeType.length <= 255)).toBe(true);
        if (details.createdAt !== null) expect(new Date(details.createdAt).toISOString()).toBe(details.createdAt);
      }),
      { ...RUNS, numRuns: 300 },
    );
  });
});

describe('Content-Range', () => {
  // Mostly the exact value, sometimes one off: enough acceptances to check, and every near miss next to them.
  const near = (value: number) => fc.oneof({ arbitrary: fc.constant(value), weight: 4 }, { arbitrary: fc.constantFrom(value - 1, value + 1).filter((n) => n >= 0), weight: 1 });
  const unit = fc.oneof({ arbitrary: fc.constant('bytes '), weight: 4 }, { arbitrary: fc.constantFrom('BYTES ', ' bytes  ', 'bytes=', 'items ', 'bytes\t'), weight: 1 });
  const header = (start: number, last: number, total: number) =>
    fc.oneof(
      { arbitrary: fc.tuple(near(start), near(last), fc.oneof({ arbitrary: near(total).map(String), weight: 4 }, fc.constant('*')), unit).map(([a, b, t, u]) => `${u}${a}-${b}/${t}`), weight: 6 },
      nasty,
      fc.constantFrom(`bytes ${start}-${last}/${total}, 0-1/${total}`, `bytes ${start}-${last}/${2 ** 53}`, `bytes -${last}/${total}`),
    );
  const scenario = fc
    .record({ start: fc.nat({ max: 2 ** 40 }), length: fc.integer({ min: 1, max: 2 ** 30 }), extra: fc.nat({ max: 2 ** 30 }), open: fc.boolean(), knowTotal: fc.boolean() })
    .chain((s) => {
      const total = s.start + s.length + s.extra;
      const last = s.open ? total - 1 : s.start + s.length - 1;
      return fc.record({ s: fc.constant(s), total: fc.constant(total), last: fc.constant(last), header: header(s.start, last, total), contentLength: fc.oneof(fc.constant(null), near(last - s.start + 1).map(String), nasty) });
    });

  it('parseContentRange returns null or a range that fits its own total', () => {
    fc.assert(
      fc.property(nasty, (text) => {
        const range = parseContentRange(text);
        if (range === null) return;
        expect(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.last) && range.last >= range.start).toBe(true);
        if (range.total !== null) expect(range.last).toBeLessThan(range.total);
      }),
      RUNS,
    );
  });

  it('a 206 is accepted only when it is exactly the range asked for, of the file expected', () => {
    fc.assert(
      fc.property(scenario, ({ s, total, last, header: text, contentLength }) => {
        const expected = { start: s.start, end: s.open ? null : s.start + s.length, total: s.knowTotal ? total : null };
        const problem = contentRangeMismatch(text, contentLength, expected);
        if (problem !== null) {
          expect(problem).toMatch(/^206 /);
          return;
        }
        // Accepted: writing this body at expected.start puts every byte where it belongs.
        const range = parseContentRange(text)!;
        expect(range.start).toBe(s.start);
        expect(range.total).not.toBeNull();
        if (expected.total !== null) expect(range.total).toBe(total);
        expect(range.last).toBe((expected.end ?? range.total!) - 1);
        if (!s.open) expect(range.last).toBe(last);
        if (contentLength !== null) expect(Number(contentLength)).toBe(range.last - range.start + 1);
      }),
      { ...RUNS, numRuns: 2000 },
    );
  });
});

describe('config.ini', () => {
  const KEYS = ['api_key', 'api_base', 'backup_api_base', 'connections', 'parallel_files', 'requests_per_minute', 'preset', 'connect_timeout', 'read_timeout', 'max_retries', 'limit_rate', 'proxy', 'base_dir', 'min_split_size', 'encrypt', 'timeout', 'chunk_size', 'unknown'];
  const SECRET = 'sk-ant-api03-never-shown-0123456789';
  const value = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('8', '0', '-1', '33', '1e3', '1.5', '512K', '9999999999999999999T', 'unlimited', 'lan', 'https://x.test', 'http://u:pw@proxy:8080', 'yes', '"quoted"', "'open", '" spaced " # c', SECRET));
  const line = fc.oneof(
    fc.tuple(fc.constantFrom('auth', 'network', 'storage', 'Network', 'bogus', '', ' ]'), fc.constantFrom('', ' ; comment')).map(([s, c]) => `[${s}]${c}`),
    fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(' = ', '=', ' =', '= '), value).map(([k, eq, v]) => `${k}${eq}${v}`),
    fc.constantFrom('; comment', '# comment', '', '   ', '=x', 'no equals here', `api_key = ${SECRET}`, `[auth]`, SECRET, '\uFEFF[auth]'),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
  const ini = fc.tuple(fc.array(line, { maxLength: 14 }), fc.constantFrom('\n', '\r\n', '\r')).map(([lines, eol]) => lines.join(eol));
  const temp = tempDir('filehaul-ini-');
  afterAll(() => temp.remove());

  it('parseIni returns entries or throws IniSyntaxError naming a line, never quoting it', () => {
    fc.assert(
      fc.property(ini, (text) => {
        try {
          for (const entry of parseIni(text, 'config.ini')) {
            expect(entry.key).toBe(entry.key.toLowerCase());
            expect(entry.key.length).toBeGreaterThan(0);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(IniSyntaxError);
          expect((error as Error).message).toMatch(/^config\.ini line \d+: /);
          expect((error as Error).message).not.toContain(SECRET);
        }
      }),
      RUNS,
    );
  });

  it('loadSettings on any config.ini gives settings or a SettingsError, never shows the key, and writes nothing', () => {
    // The config sits in home/; outside/ holds a sentinel. Nothing but config.ini itself may differ afterwards.
    const home = path.join(temp.dir, 'home');
    mkdirSync(home);
    mkdirSync(path.join(temp.dir, 'outside'));
    writeFileSync(path.join(temp.dir, 'outside', 'sentinel'), 'keep');
    const file = path.join(home, 'config.ini');
    const withoutConfig = () => snapshotTree(temp.dir).filter((entry) => !entry.startsWith('home/config.ini'));
    const before = withoutConfig();
    fc.assert(
      fc.property(ini, (text) => {
        writeFileSync(file, text, { mode: 0o600 });
        try {
          const { settings, warnings } = loadSettings({ configPath: file, env: {}, flags: {}, cwd: home });
          expect(settings.connections).toBeGreaterThanOrEqual(1);
          expect(path.isAbsolute(settings.dataDir)).toBe(true);
          for (const warning of warnings) expect(warning).not.toContain(SECRET);
        } catch (error) {
          expect(error).toBeInstanceOf(SettingsError);
          expect((error as Error).message).not.toContain(SECRET);
        }
      }),
      { ...RUNS, numRuns: 300 },
    );
    expect(withoutConfig()).toEqual(before);
  });
});
