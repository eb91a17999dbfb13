// The account's files, fetched page by page through listRemote, and which of them the user has selected.
import { create } from 'zustand';
import type { RemoteFileView } from '../../../shared/contract.ts';
import { getBridge } from '../bridge/index.ts';

const PAGE = 100;

interface RemoteState {
  files: readonly RemoteFileView[];
  nextCursor: string | null;
  loaded: boolean;
  loading: boolean;
  error: string | null;
  selected: Readonly<Record<string, true>>;
  /** Starts over from the first page. */
  refresh(): Promise<void>;
  loadMore(): Promise<void>;
  toggle(id: string): void;
  selectAll(): void;
  clearSelection(): void;
  /** A download of this file id finished: mark it archived without refetching. */
  markArchived(fileId: string): void;
}

// Replies of an older refresh must not land after a newer one.
let generation = 0;

export const useRemote = create<RemoteState>()((set, get) => {
  async function fetchPage(cursor: string | null, reset: boolean): Promise<void> {
    const gen = reset ? ++generation : generation;
    set({ loading: true, error: null });
    try {
      const reply = await getBridge().api.request('listRemote', { cursor, limit: PAGE });
      if (gen !== generation) return;
      set((s) => {
        const have = new Set(s.files.map((f) => f.id));
        return {
          files: reset ? reply.files : [...s.files, ...reply.files.filter((f) => !have.has(f.id))],
          nextCursor: reply.nextCursor,
          loaded: true,
          loading: false,
        };
      });
    } catch (e) {
      if (gen === generation) set({ loading: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return {
    files: [],
    nextCursor: null,
    loaded: false,
    loading: false,
    error: null,
    selected: {},
    refresh: () => fetchPage(null, true),
    async loadMore() {
      const { nextCursor, loading } = get();
      if (nextCursor && !loading) await fetchPage(nextCursor, false);
    },
    toggle: (id) =>
      set((s) => {
        const selected = { ...s.selected };
        if (selected[id]) delete selected[id];
        else selected[id] = true;
        return { selected };
      }),
    selectAll: () =>
      set((s) => {
        const selected: Record<string, true> = {};
        for (const f of s.files) if (f.downloadable !== false) selected[f.id] = true;
        return { selected };
      }),
    clearSelection: () => set({ selected: {} }),
    markArchived: (fileId) =>
      set((s) => {
        const i = s.files.findIndex((f) => f.id === fileId);
        if (i < 0 || s.files[i].archived) return s;
        const files = s.files.slice();
        files[i] = { ...files[i], archived: true };
        return { files };
      }),
  };
});
