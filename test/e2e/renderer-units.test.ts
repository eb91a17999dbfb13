// The renderer's pure parts under Node: input splitting and checks, locale detection, formatting, row wording, the downloads store.
import { describe, expect, it } from 'vitest';
import type { DownloadView } from '../../src/shared/contract.ts';
import { parseInputs, splitInputs } from '../../src/renderer/src/features/add/parseInputs.ts';
import { actionsFor, etaSeconds, phaseOf, stateText } from '../../src/renderer/src/features/downloads/describe.ts';
import { makeI18n } from '../../src/renderer/src/i18n/index.ts';
import { detectLocale } from '../../src/renderer/src/i18n/locale.ts';
import { useDownloads } from '../../src/renderer/src/state/downloads.ts';

function view(id: string, over: Partial<DownloadView> = {}): DownloadView {
  return {
    id,
    sourceKind: 'files-api',
    source: `file_${id}`,
    filename: `${id}.bin`,
    sizeBytes: 1000,
    state: 'downloading',
    error: null,
    bytesDownloaded: 0,
    bytesPerSecond: 0,
    connections: 0,
    retryCount: 0,
    waitingUntil: null,
    segments: [],
    addedAt: '2025-01-01T00:00:00.000Z',
    completedAt: null,
    finalPath: null,
    sha256: null,
    ...over,
  };
}

describe('Add: splitting and the loose check', () => {
  it('splits on newlines, commas, semicolons, spaces and tabs, dropping duplicates', () => {
    expect(splitInputs(' file_a,file_b\n\nfile_c\tfile_a ; https://x.org/a b ')).toEqual(['file_a', 'file_b', 'file_c', 'https://x.org/a', 'b']);
  });

  it('accepts ids and http(s) URLs, refuses slashes, other schemes and broken URLs', () => {
    expect(parseInputs('file_011CNha8 https://example.com/f.csv HTTP://EXAMPLE.COM/x a/b ftp://h/x https:// c\\d')).toEqual([
      { input: 'file_011CNha8', problem: null },
      { input: 'https://example.com/f.csv', problem: null },
      { input: 'HTTP://EXAMPLE.COM/x', problem: null },
      { input: 'a/b', problem: 'add.invalid.slash' },
      { input: 'ftp://h/x', problem: 'add.invalid.scheme' },
      { input: 'https://', problem: 'add.invalid.url' },
      { input: 'c\\d', problem: 'add.invalid.slash' },
    ]);
  });
});

describe('i18n', () => {
  it('follows the OS language: Simplified Chinese for zh / zh-CN / zh-Hans, English otherwise', () => {
    expect(detectLocale(['zh-CN', 'en'])).toBe('zh-CN');
    expect(detectLocale(['zh'])).toBe('zh-CN');
    expect(detectLocale(['zh-Hans-SG'])).toBe('zh-CN');
    expect(detectLocale(['zh-TW'])).toBe('en');
    expect(detectLocale(['fr-FR', 'zh-CN'])).toBe('zh-CN');
    expect(detectLocale(['de'])).toBe('en');
  });

  it('formats sizes, speeds, months and durations for each locale', () => {
    const en = makeI18n('en').fmt;
    expect([en.bytes(0), en.bytes(999), en.bytes(1_500_000), en.bytes(3e9)]).toEqual(['0 B', '999 B', '1.5 MB', '3 GB']);
    expect(en.speed(2_500_000)).toBe('2.5 MB/s');
    expect(en.month('2025-03')).toBe('March 2025');
    expect(en.duration(3725)).toMatch(/^1h 2m$/);
    expect(en.time(Date.UTC(2025, 0, 1, 13, 4, 5) + new Date().getTimezoneOffset() * 60_000)).toBe('13:04:05');
    const zh = makeI18n('zh-CN');
    expect(zh.fmt.month('2025-03')).toBe('2025年3月');
    expect(zh.fmt.speed(2_500_000)).toBe('2.5 MB/秒');
    expect(zh.tn('downloads.connections', 4)).toBe('4 个连接');
  });

  it('picks English plural forms', () => {
    const { tn } = makeI18n('en');
    expect([tn('downloads.retries', 1), tn('downloads.retries', 3), tn('archive.files', 100_000)]).toEqual(['1 retry', '3 retries', '100,000 files']);
  });
});

describe('a download row in words', () => {
  const i18n = makeI18n('en');
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);

  it('names the waits, starts and failures the engine state alone does not', () => {
    const waiting = view('w', { state: 'queued', waitingUntil: now + 90_000 });
    expect(phaseOf(waiting, now)).toBe('waiting');
    expect(stateText(waiting, 'waiting', i18n)).toMatch(/^Waiting for rate limit until \d\d:\d\d:\d\d$/);
    expect(phaseOf(view('w', { state: 'queued', waitingUntil: now - 1 }), now)).toBe('queued');
    expect(phaseOf(view('c'), now)).toBe('connecting');
    expect(phaseOf(view('d', { connections: 2, bytesPerSecond: 10 }), now)).toBe('downloading');
    const failed = view('f', { state: 'failed', error: 'HTTP 500' });
    expect(stateText(failed, phaseOf(failed, now), i18n)).toBe('Failed: HTTP 500');
    const full = view('s', { state: 'paused', error: 'waiting for disk space in /data: needs 3.0 MiB free, 1.0 MiB free now' });
    expect(stateText(full, phaseOf(full, now), i18n)).toBe('Paused: waiting for disk space in /data: needs 3.0 MiB free, 1.0 MiB free now');
    expect(stateText(view('p', { state: 'paused' }), 'paused', i18n)).toBe('Paused');
  });

  it('offers only the buttons that apply', () => {
    expect(actionsFor(view('a'))).toEqual({ pause: true, resume: false, cancel: true, retry: false });
    expect(actionsFor(view('a', { state: 'paused' }))).toEqual({ pause: false, resume: true, cancel: true, retry: false });
    // Waiting for disk space: Resume tries at once, Pause keeps it from resuming by itself.
    expect(actionsFor(view('a', { state: 'paused', error: 'waiting for disk space in /data' }))).toEqual({ pause: true, resume: true, cancel: true, retry: false });
    expect(actionsFor(view('a', { state: 'failed' }))).toEqual({ pause: false, resume: false, cancel: true, retry: true });
    expect(actionsFor(view('a', { state: 'done' }))).toEqual({ pause: false, resume: false, cancel: false, retry: false });
  });

  it('estimates time left only while bytes move', () => {
    expect(etaSeconds(view('a', { bytesDownloaded: 400, bytesPerSecond: 100 }))).toBe(6);
    expect(etaSeconds(view('a', { bytesPerSecond: 0 }))).toBeNull();
    expect(etaSeconds(view('a', { sizeBytes: null, bytesPerSecond: 5 }))).toBeNull();
  });
});

describe('downloads store', () => {
  it('merges a whole batch in one update, keeps the order on progress, puts new downloads on top', () => {
    const store = useDownloads;
    store.getState().replaceAll([view('old', { addedAt: '2025-01-01T00:00:00Z' }), view('new', { addedAt: '2025-02-01T00:00:00Z' })]);
    expect(store.getState().order).toEqual(['new', 'old']);
    let updates = 0;
    const unsubscribe = store.subscribe(() => updates++);
    const orderBefore = store.getState().order;
    const untouched = store.getState().byId.old;
    store.getState().merge([view('new', { bytesDownloaded: 10, bytesPerSecond: 5, connections: 1 })]);
    expect(updates).toBe(1);
    // Same array: the list component does not re-render on progress; untouched rows keep their object.
    expect(store.getState().order).toBe(orderBefore);
    expect(store.getState().byId.old).toBe(untouched);
    store.getState().merge([view('a1', { state: 'queued' }), view('a2', { state: 'queued' }), view('old', { state: 'paused' })]);
    expect(updates).toBe(2);
    expect(store.getState().order).toEqual(['a1', 'a2', 'new', 'old']);
    expect(store.getState().totals).toMatchObject({ active: 1, queued: 2, paused: 1, speed: 5 });
    store.getState().remove('a1');
    expect(store.getState().order).toEqual(['a2', 'new', 'old']);
    unsubscribe();
  });
});
