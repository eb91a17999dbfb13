// Transient messages for the user: engine notices (a download failed…) and replies of requests that went wrong.
import { create } from 'zustand';

export interface Notice {
  id: number;
  level: 'info' | 'error';
  message: string;
}

interface NoticesState {
  items: Notice[];
  push(level: Notice['level'], message: string): void;
  dismiss(id: number): void;
}

let nextId = 1;
// A burst of failures (say 1,000 downloads losing the network) must not bury the screen.
const MAX_VISIBLE = 4;

export const useNotices = create<NoticesState>()((set) => ({
  items: [],
  push: (level, message) => set((s) => ({ items: [...s.items, { id: nextId++, level, message }].slice(-MAX_VISIBLE) })),
  dismiss: (id) => set((s) => ({ items: s.items.filter((n) => n.id !== id) })),
}));

export function reportError(error: unknown): void {
  useNotices.getState().push('error', error instanceof Error ? error.message : String(error));
}
