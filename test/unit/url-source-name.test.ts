// Which name a plain URL's file gets: Content-Disposition first, then the link's path or, after redirects, the answer's.
import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../src/main/engine/http/client.ts';
import { nameAfterRedirects, UrlSource } from '../../src/main/sources/url.ts';

function answer(headers: Record<string, string>, url?: string): HttpResponse {
  return { status: 206, headers, body: null as unknown as HttpResponse['body'], url };
}

describe('UrlSource file name', () => {
  it('takes Content-Disposition over both paths', () => {
    const source = new UrlSource('https://example.test/download/latest');
    const details = source.detailsFromResponse(answer({ 'content-disposition': 'attachment; filename="tool-1.2.tar.gz"' }, 'https://cdn.example.test/abc123'));
    expect(details.filename).toBe('tool-1.2.tar.gz');
  });

  it('takes the name the redirect ended at when the link names no file', () => {
    const source = new UrlSource('https://example.test/download/latest');
    expect(source.detailsFromResponse(answer({}, 'https://mirror.example.test/pub/tool-1.2.tar.gz?sig=x')).filename).toBe('tool-1.2.tar.gz');
  });

  it("keeps the link's own name when the redirect ends at an opaque key", () => {
    const source = new UrlSource('https://example.test/releases/tool-1.2.tar.gz');
    expect(source.detailsFromResponse(answer({}, 'https://cdn.example.test/objects/5f2a9c0e?X-Amz-Signature=abc')).filename).toBe('tool-1.2.tar.gz');
  });

  it("keeps the link's name when both have an extension, and without redirects", () => {
    const source = new UrlSource('https://example.test/a/report.pdf');
    expect(source.detailsFromResponse(answer({}, 'https://cdn.example.test/b/other.pdf')).filename).toBe('report.pdf');
    expect(source.detailsFromResponse(answer({})).filename).toBe('report.pdf');
  });

  it('a link ending in / takes whatever the answer names, and neither naming anything gives null', () => {
    expect(nameAfterRedirects(new URL('https://example.test/'), 'https://cdn.example.test/blob')).toBe('blob');
    expect(nameAfterRedirects(new URL('https://example.test/'), 'https://cdn.example.test/')).toBeNull();
  });

  it('decodes percent-escapes and does not count a leading dot as an extension', () => {
    expect(nameAfterRedirects(new URL('https://example.test/get'), 'https://cdn.example.test/my%20file.zip')).toBe('my file.zip');
    expect(nameAfterRedirects(new URL('https://example.test/get'), 'https://cdn.example.test/.hidden')).toBe('get');
  });
});
