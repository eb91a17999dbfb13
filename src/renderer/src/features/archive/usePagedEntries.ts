// Lazily pages a long archive listing: fetches only the pages the visible rows fall in, and forgets them all when the key changes.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ArchiveEntryView } from '../../../../shared/contract.ts';

export const PAGE_SIZE = 200;

export type FetchPage = (offset: number, limit: number) => Promise<{ entries: ArchiveEntryView[]; total: number }>;

interface Paged {
  total: number | null;
  error: string | null;
  entryAt(index: number): ArchiveEntryView | undefined;
  /** Visible range changed: fetch whatever pages it needs. */
  ensure(start: number, end: number): void;
}

/** `key` names the listing (month, sort, query…); `fetchPage` may be a fresh closure each render, the key is what counts. */
export function usePagedEntries(key: string | null, fetchPage: FetchPage): Paged {
  const pages = useRef(new Map<number, ArchiveEntryView[]>());
  const inflight = useRef(new Set<number>());
  const currentKey = useRef<string | null>(null);
  const fetcher = useRef(fetchPage);
  fetcher.current = fetchPage;
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [, setVersion] = useState(0);
  const [shownKey, setShownKey] = useState(key);

  // Forget the old listing during the render that sees the new key, so not one frame shows old rows under a new title.
  if (shownKey !== key) {
    setShownKey(key);
    setTotal(null);
    setError(null);
  }
  if (currentKey.current !== key) {
    currentKey.current = key;
    pages.current = new Map();
    inflight.current = new Set();
  }

  const load = useCallback((page: number) => {
    const k = currentKey.current;
    if (k === null || pages.current.has(page) || inflight.current.has(page)) return;
    inflight.current.add(page);
    fetcher.current(page * PAGE_SIZE, PAGE_SIZE).then(
      (reply) => {
        // A reply for a listing the user has left must not leak into the new one.
        if (currentKey.current !== k) return;
        inflight.current.delete(page);
        pages.current.set(page, reply.entries);
        setTotal(reply.total);
        setError(null);
        setVersion((v) => v + 1);
      },
      (e: unknown) => {
        if (currentKey.current !== k) return;
        inflight.current.delete(page);
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  }, []);

  useEffect(() => {
    if (key !== null) load(0);
  }, [key, load]);

  const ensure = useCallback(
    (start: number, end: number) => {
      if (end <= start) return;
      for (let p = Math.floor(start / PAGE_SIZE); p <= Math.floor((end - 1) / PAGE_SIZE); p++) load(p);
    },
    [load],
  );

  return {
    total,
    error,
    entryAt: (i) => pages.current.get(Math.floor(i / PAGE_SIZE))?.[i % PAGE_SIZE],
    ensure,
  };
}
