// What a download run knows about its file and keeps in the journal: validators, details learnt from responses and the listing, and segments as stored.
import type { DownloadRecord, SegmentRecord } from '../../shared/model.ts';
import type { HttpResponse } from './http/client.ts';
import { headerValue } from './http/retry-policy.ts';
import type { TransferJournal } from './ports.ts';
import type { LiveSegment, Validators } from './range-request.ts';
import type { DownloadSource, SourceDetails } from './source.ts';

/** The If-Range material a resumed request carries. */
export function validatorsOf(record: DownloadRecord): Validators {
  return { etag: record.etag, lastModified: record.lastModified };
}

/** A strong ETag or a Last-Modified date: something a resumed range can be checked against. */
export function hasValidator(record: DownloadRecord): boolean {
  return Boolean((record.etag && !record.etag.startsWith('W/')) || record.lastModified);
}

/** Takes the validators, and the name and type when not yet known, from the first content response. */
export function learnFromResponse(record: DownloadRecord, source: DownloadSource, response: HttpResponse): void {
  record.etag = headerValue(response.headers.etag);
  record.lastModified = headerValue(response.headers['last-modified']);
  const details = source.detailsFromResponse(response);
  if (details.filename && !record.filename) record.filename = details.filename;
  if (details.mimeType && !record.mimeType) record.mimeType = details.mimeType;
}

/** Takes what the source says about the file (name, type, size, creation time) over what the record had. */
export function applyDetails(record: DownloadRecord, details: SourceDetails): void {
  record.filename = details.filename ?? record.filename;
  record.mimeType = details.mimeType ?? record.mimeType;
  record.sizeBytes = details.sizeBytes ?? record.sizeBytes;
  record.createdAt = details.createdAt ?? record.createdAt;
}

export function persistRecord(journal: TransferJournal, record: DownloadRecord): void {
  const { id, ...patch } = record;
  journal.updateDownload(id, patch);
}

/** A stored segment as a run works with it: everything up to the confirmed offset is on disk. */
export function liveSegment(segment: SegmentRecord): LiveSegment {
  return { start: segment.start, end: segment.end, offset: segment.confirmedOffset, written: segment.confirmedOffset, confirmed: segment.confirmedOffset, assigned: false, streaming: false };
}

/** A live segment as the journal keeps it: only fsynced bytes count. */
export function toRecord(segment: LiveSegment): SegmentRecord {
  return { start: segment.start, end: segment.end, confirmedOffset: segment.confirmed };
}
