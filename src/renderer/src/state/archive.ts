// The archive's months and the user's place in it (month, search, sort) plus verify reports per month.
import { create } from 'zustand';
import type { ArchiveMonthView, VerifyReportView } from '../../../shared/contract.ts';
import { getBridge } from '../bridge/index.ts';

export type ArchiveSort = 'name' | 'downloaded' | 'size';

export interface VerifyState {
  running: boolean;
  report: VerifyReportView | null;
  error: string | null;
}

interface ArchiveState {
  months: readonly ArchiveMonthView[];
  loaded: boolean;
  error: string | null;
  month: string | null;
  sort: ArchiveSort;
  query: string;
  /** Search the chosen month only, or every month. */
  scope: 'month' | 'all';
  verify: Readonly<Record<string, VerifyState>>;
  /** Bumped whenever archived files may have changed, so open lists refetch. */
  revision: number;
  loadMonths(): Promise<void>;
  choose(month: string | null): void;
  setSort(sort: ArchiveSort): void;
  setQuery(query: string): void;
  setScope(scope: 'month' | 'all'): void;
  runVerify(month: string): Promise<void>;
}

export const useArchive = create<ArchiveState>()((set, get) => ({
  months: [],
  loaded: false,
  error: null,
  month: null,
  sort: 'name',
  query: '',
  scope: 'month',
  verify: {},
  revision: 0,
  async loadMonths() {
    try {
      const reply = await getBridge().api.request('archiveMonths', {});
      // Newest first whatever order the door sends.
      const months = [...reply].sort((a, b) => (a.month < b.month ? 1 : a.month > b.month ? -1 : 0));
      set((s) => ({ months, loaded: true, error: null, revision: s.revision + 1 }));
    } catch (e) {
      set({ error: e instanceof Error ? e.message : String(e), loaded: true });
    }
  },
  choose: (month) => set({ month }),
  setSort: (sort) => set({ sort }),
  setQuery: (query) => set({ query }),
  setScope: (scope) => set({ scope }),
  async runVerify(month) {
    const put = (v: VerifyState): void => set((s) => ({ verify: { ...s.verify, [month]: v } }));
    if (get().verify[month]?.running) return;
    put({ running: true, report: get().verify[month]?.report ?? null, error: null });
    try {
      put({ running: false, report: await getBridge().api.request('verify', { month }), error: null });
    } catch (e) {
      put({ running: false, report: null, error: e instanceof Error ? e.message : String(e) });
    }
  },
}));
