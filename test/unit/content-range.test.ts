// Content-Range checks: only the exact range asked for, of the expected file, is accepted as data.
import { describe, expect, it } from 'vitest';
import { contentRangeMismatch, parseContentRange } from '../../src/main/engine/http/content-range.ts';

describe('Content-Range', () => {
  it('parses well-formed headers and rejects malformed ones', () => {
    expect(parseContentRange('bytes 0-99/1000')).toEqual({ start: 0, last: 99, total: 1000 });
    expect(parseContentRange('bytes 5-9/*')).toEqual({ start: 5, last: 9, total: null });
    for (const bad of [null, '', 'bytes 9-5/10', 'bytes 0-10/10', 'items 0-1/2', 'bytes */10', 'bytes 0-1/2, 4-5/6']) expect(parseContentRange(bad)).toBeNull();
  });

  it('accepts exactly what was asked', () => {
    expect(contentRangeMismatch('bytes 100-199/1000', '100', { start: 100, end: 200, total: 1000 })).toBeNull();
    expect(contentRangeMismatch('bytes 0-999/1000', null, { start: 0, end: null, total: null })).toBeNull();
  });

  it('names each kind of mismatch', () => {
    expect(contentRangeMismatch('bytes 101-199/1000', null, { start: 100, end: 200, total: 1000 })).toMatch(/starts at byte 101/);
    expect(contentRangeMismatch('bytes 100-149/1000', null, { start: 100, end: 200, total: 1000 })).toMatch(/ends at byte 149/);
    expect(contentRangeMismatch('bytes 100-199/2000', null, { start: 100, end: 200, total: 1000 })).toMatch(/2000 bytes, expected 1000/);
    expect(contentRangeMismatch('bytes 100-199/1000', '50', { start: 100, end: 200, total: 1000 })).toMatch(/Content-Length 50/);
    expect(contentRangeMismatch('bytes 100-199/*', null, { start: 100, end: 200, total: null })).toMatch(/without a total/);
    expect(contentRangeMismatch('garbage', null, { start: 0, end: null, total: null })).toMatch(/unreadable/);
  });
});
