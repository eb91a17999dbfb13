// Unit tests of the file list's page reading: shape detection, cursors, and clear errors for malformed bodies.
import { describe, expect, it } from 'vitest';
import { FatalError } from '../../src/main/engine/errors.ts';
import { decodeListCursor, encodeListCursor, parseListPage } from '../../src/main/sources/files-list.ts';

const BASE = 'http://127.0.0.1:1';

function item(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'file_011A', type: 'file', filename: 'a.csv', mime_type: 'text/csv', size_bytes: 12, created_at: '2025-03-14T23:30:00Z', downloadable: true, ...overrides };
}

function page(body: unknown): ReturnType<typeof parseListPage> {
  return parseListPage(JSON.stringify(body), BASE);
}

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('parseListPage: page shapes', () => {
  it('reads a beta page and follows last_id while has_more', () => {
    const more = page({ data: [item(), item({ id: 'file_011B' })], has_more: true, first_id: 'file_011A', last_id: 'file_011B' });
    expect(more.files.map((file) => file.id)).toEqual(['file_011A', 'file_011B']);
    expect(more.nextCursor).toBe(encodeListCursor('beta', 'file_011B'));
    expect(page({ data: [item()], has_more: false, first_id: 'file_011A', last_id: 'file_011A' }).nextCursor).toBeNull();
    // An empty last page is still a page.
    expect(page({ data: [], has_more: false, first_id: null, last_id: null })).toEqual({ files: [], nextCursor: null });
  });

  it('reads a GA page and follows next_page while it is not null', () => {
    const more = page({ data: [item()], next_page: 'page_abc' });
    expect(more.nextCursor).toBe(encodeListCursor('ga', 'page_abc'));
    expect(decodeListCursor(more.nextCursor!)).toEqual({ shape: 'ga', value: 'page_abc' });
    expect(page({ data: [item()], next_page: null }).nextCursor).toBeNull();
  });

  it('maps fields, normalizes created_at to UTC ISO, ignores unknown fields, and keeps a missing downloadable unknown', () => {
    const { files } = page({
      data: [
        item({ created_at: '2025-03-15T01:30:00+02:00', scope: { id: 's', type: 'session' }, expires_at: null, something_new: [1, 2] }),
        item({ id: 'file_011B', downloadable: undefined, mime_type: null }),
      ],
      has_more: false,
    });
    expect(files[0]).toEqual({ id: 'file_011A', filename: 'a.csv', sizeBytes: 12, createdAt: '2025-03-14T23:30:00.000Z', mimeType: 'text/csv', downloadable: true });
    expect(files[1]).toMatchObject({ id: 'file_011B', downloadable: null, mimeType: null });
  });

  it('round-trips cursors whose value contains a colon and refuses foreign ones', () => {
    expect(decodeListCursor(encodeListCursor('beta', 'file:x'))).toEqual({ shape: 'beta', value: 'file:x' });
    expect(() => decodeListCursor('page_abc')).toThrow(RangeError);
    expect(() => decodeListCursor('beta:')).toThrow(RangeError);
    expect(() => decodeListCursor('other:x')).toThrow(RangeError);
  });
});

describe('parseListPage: malformed bodies fail with the field named', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['size_bytes as a string', { data: [item({ size_bytes: '12' })], has_more: false }, /data\[0\] \(file_011A\)\.size_bytes must be a whole number of bytes \(got "12"\)/],
    ['negative size_bytes', { data: [item(), item({ id: 'file_011B', size_bytes: -1 })], has_more: false }, /data\[1\] \(file_011B\)\.size_bytes/],
    ['missing id', { data: [item({ id: undefined })], has_more: false }, /data\[0\]\.id must be a string \(got nothing\)/],
    ['an id with a slash', { data: [item({ id: '../etc' })], has_more: false }, /data\[0\]\.id is not a usable file id/],
    ['created_at not a date', { data: [item({ created_at: 'yesterday' })], next_page: null }, /data\[0\] \(file_011A\)\.created_at must be an RFC 3339 date/],
    ['filename a number', { data: [item({ filename: 7 })], next_page: null }, /\.filename must be a string \(got 7\)/],
    ['downloadable a string', { data: [item({ downloadable: 'yes' })], has_more: false }, /\.downloadable must be true or false \(got "yes"\)/],
    ['an item that is not an object', { data: ['file_011A'], has_more: false }, /data\[0\] is not an object/],
    ['data not an array', { data: { id: 'x' }, has_more: false }, /"data" must be an array/],
    ['no page shape at all', { data: [] }, /neither "has_more"\/"last_id" nor "next_page"/],
    ['has_more without last_id', { data: [], has_more: true, last_id: null }, /"has_more" is true but "last_id" is not an id/],
    ['has_more not boolean', { data: [], has_more: 'true', last_id: 'file_011A' }, /"has_more" must be true or false/],
    ['next_page not a string', { data: [], next_page: 3 }, /"next_page" must be a cursor string or null/],
    ['a top-level array', [item()], /the body is not a JSON object/],
  ];
  for (const [name, body, pattern] of cases) {
    it(name, () => {
      const error = errorOf(() => page(body));
      expect(error).toBeInstanceOf(FatalError);
      expect(error.message).toMatch(/^The file list from http:\/\/127\.0\.0\.1:1 is malformed: /);
      expect(error.message).toMatch(pattern);
    });
  }

  it('a body that is not JSON', () => {
    const error = errorOf(() => parseListPage('<html>Bad gateway</html>', BASE));
    expect(error.message).toMatch(/the body is not JSON \(got "<html>Bad gateway<\/html>"\)/);
  });
});
