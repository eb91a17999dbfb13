// The Anthropic Files API as a source: metadata from GET /v1/files/{id}, bytes from /v1/files/{id}/content.
import { FatalError } from '../engine/errors.ts';
import { errorForStatus, readErrorBody } from '../engine/http/api-error.ts';
import type { HttpClient } from '../engine/http/client.ts';
import type { DownloadSource, SourceDetails } from '../engine/source.ts';

export const DEFAULT_API_BASE = 'https://api.anthropic.com';

/** Headers every Files API call carries. The beta header is harmless where the GA surface does not need it. */
export function filesApiHeaders(apiKey: string): Record<string, string> {
  return {
    'x-api-key': apiKey,
    'anthropic-version': '2023-06-01',
    'anthropic-beta': 'files-api-2025-04-14',
  };
}

/**
 * File ids are documented as opaque (`file_011CNha8…` today), so they are checked loosely: the checks only keep
 * an id from escaping its URL path segment or being a typo of something else entirely.
 */
export function fileIdProblem(fileId: string): string | null {
  if (fileId.length === 0) return 'the file id is empty';
  // "." and ".." would be resolved as path segments by the URL parser and reach other endpoints with the key.
  if (fileId === '.' || fileId === '..') return 'a file id cannot be "." or ".."';
  if (fileId.length > 256) return 'the file id is longer than 256 characters';
  if (/[\s/\\?#%]/.test(fileId)) return 'a file id cannot contain spaces, slashes, "?", "#" or "%"';
  if (/[\u0000-\u001f\u007f]/.test(fileId)) return 'the file id contains control characters';
  return null;
}

/** Normalizes an API base URL (no trailing slash) or explains what is wrong with it. */
export function parseApiBase(apiBase: string): string {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new FatalError(`The API base "${apiBase}" is not a URL (expected something like ${DEFAULT_API_BASE}).`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FatalError(`The API base "${apiBase}" must start with https:// or http://.`);
  return url.href.replace(/\/+$/, '');
}

export class FilesApiSource implements DownloadSource {
  readonly kind = 'files-api' as const;
  readonly ref: string;
  readonly apiBase: string;
  readonly displayName: string;
  readonly #apiKey: string;

  constructor(fileId: string, apiBase: string, apiKey: string) {
    const problem = fileIdProblem(fileId);
    if (problem) throw new FatalError(`"${fileId.slice(0, 80)}" is not a file id: ${problem}.`);
    this.ref = fileId;
    this.apiBase = parseApiBase(apiBase);
    this.displayName = fileId;
    this.#apiKey = apiKey;
  }

  async describe(http: HttpClient, signal: AbortSignal): Promise<SourceDetails> {
    const response = await http.get(`${this.apiBase}/v1/files/${encodeURIComponent(this.ref)}`, { ...filesApiHeaders(this.#apiKey), accept: 'application/json' }, { signal });
    if (response.status !== 200) throw errorForStatus(response.status, response.headers, await readErrorBody(response.body));
    const text = await response.body.text();
    return parseFileMetadata(this.ref, text);
  }

  contentRequest() {
    return {
      url: `${this.apiBase}/v1/files/${encodeURIComponent(this.ref)}/content`,
      headers: { ...filesApiHeaders(this.#apiKey), accept: 'application/binary' },
      followRedirects: false,
    };
  }

  detailsFromResponse(): Partial<SourceDetails> {
    // The metadata endpoint already said everything; the content response's type is always octet-stream.
    return {};
  }
}

/**
 * Reads a metadata body defensively: a field of the wrong type is an error naming the field, never a silent default
 * that could archive a file under the wrong size or month.
 */
export function parseFileMetadata(fileId: string, text: string): SourceDetails {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FatalError(`The metadata of ${fileId} is not JSON (got ${JSON.stringify(text.slice(0, 80))}).`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FatalError(`The metadata of ${fileId} is not a JSON object.`);
  const meta = parsed as Record<string, unknown>;
  const size = meta.size_bytes;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new FatalError(`The metadata of ${fileId} has no valid size_bytes (got ${JSON.stringify(size)?.slice(0, 40)}).`);
  }
  if (meta.downloadable === false) {
    throw new FatalError(`${fileId} is not downloadable: the Files API only lets you download files created by Claude (code execution, skills), not files you uploaded.`);
  }
  const filename = typeof meta.filename === 'string' && meta.filename.length > 0 ? meta.filename : null;
  const mimeType = typeof meta.mime_type === 'string' ? meta.mime_type.slice(0, 255) : null;
  const createdAt = typeof meta.created_at === 'string' && !Number.isNaN(Date.parse(meta.created_at)) ? new Date(meta.created_at).toISOString() : null;
  return { filename, mimeType, sizeBytes: size, createdAt };
}
