// What the engine asks of a source of bytes (the Files API or a plain URL), so download logic stays the same for both.
import type { SourceKind } from '../../shared/model.ts';
import type { HttpClient, HttpResponse } from './http/client.ts';

/** What a source knows about the file before (or from) the first content response. */
export interface SourceDetails {
  filename: string | null;
  mimeType: string | null;
  sizeBytes: number | null;
  createdAt: string | null;
}

export interface DownloadSource {
  readonly kind: SourceKind;
  /** The file id or the URL, as the user gave it. */
  readonly ref: string;
  readonly apiBase: string | null;
  /** A name safe to show in messages and logs (no credentials, no query string). */
  readonly displayName: string;
  /**
   * Metadata before any content request: one request for the Files API (it also refuses files that are not
   * downloadable); null for a URL, which learns its details from the first content response instead.
   */
  describe(http: HttpClient, signal: AbortSignal): Promise<SourceDetails | null>;
  /** The content URL and the headers every content request carries (auth lives only here, in memory). */
  contentRequest(): { url: string; headers: Record<string, string>; followRedirects: boolean };
  /** Details a content response reveals (URL sources: Content-Disposition name, Content-Type). */
  detailsFromResponse(response: HttpResponse): Partial<SourceDetails>;
}
