// Downloads by id, fed by listDownloads and the engine's events; a whole progress batch is merged in one store update.
import { create } from 'zustand';
import type { DownloadView } from '../../../shared/contract.ts';

export interface Totals {
  /** Sum of bytesPerSecond over downloads moving bytes. */
  speed: number;
  /** Downloading or verifying. */
  active: number;
  queued: number;
  paused: number;
  failed: number;
  done: number;
}

interface DownloadsState {
  byId: Readonly<Record<string, DownloadView>>;
  /** Ids newest first; changes only when downloads appear or go, so the list does not re-render on progress. */
  order: readonly string[];
  totals: Totals;
  loaded: boolean;
  /** Replaces everything with a fresh listDownloads reply. */
  replaceAll(list: readonly DownloadView[]): void;
  /** Merges a batch (progress event, add reply, one change) in a single update. */
  merge(list: readonly DownloadView[]): void;
  remove(id: string): void;
}

export function computeTotals(byId: Readonly<Record<string, DownloadView>>): Totals {
  const t: Totals = { speed: 0, active: 0, queued: 0, paused: 0, failed: 0, done: 0 };
  for (const id in byId) {
    const d = byId[id];
    switch (d.state) {
      case 'downloading':
      case 'verifying':
        t.active++;
        t.speed += d.bytesPerSecond;
        break;
      case 'queued':
        t.queued++;
        break;
      case 'paused':
        t.paused++;
        break;
      case 'failed':
        t.failed++;
        break;
      case 'done':
        t.done++;
        break;
    }
  }
  return t;
}

export const useDownloads = create<DownloadsState>()((set) => ({
  byId: {},
  order: [],
  totals: computeTotals({}),
  loaded: false,
  replaceAll(list) {
    const byId: Record<string, DownloadView> = {};
    for (const d of list) byId[d.id] = d;
    const order = Object.keys(byId).sort((a, b) => (byId[a].addedAt < byId[b].addedAt ? 1 : byId[a].addedAt > byId[b].addedAt ? -1 : 0));
    set({ byId, order, totals: computeTotals(byId), loaded: true });
  },
  merge(list) {
    if (list.length === 0) return;
    set((s) => {
      const byId: Record<string, DownloadView> = { ...s.byId };
      const fresh = new Set<string>();
      for (const d of list) {
        if (!(d.id in byId)) fresh.add(d.id);
        byId[d.id] = d;
      }
      // New downloads go on top, in the order the batch named them (the order the user typed them, for an add).
      const order = fresh.size ? [...fresh, ...s.order] : s.order;
      return { byId, order, totals: computeTotals(byId) };
    });
  },
  remove(id) {
    set((s) => {
      if (!(id in s.byId)) return s;
      const byId: Record<string, DownloadView> = { ...s.byId };
      delete byId[id];
      return { byId, order: s.order.filter((x) => x !== id), totals: computeTotals(byId) };
    });
  },
}));
