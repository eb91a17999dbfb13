// Engine settings as the window sees them (the key only as set / not set); each change goes straight to setSettings.
import { create } from 'zustand';
import type { SettingsPatch, SettingsView } from '../../../shared/contract.ts';
import { getBridge } from '../bridge/index.ts';

interface SettingsState {
  settings: SettingsView | null;
  loadError: string | null;
  load(): Promise<void>;
  /** Sends one change; resolves to an error message, or null once the engine has applied it. */
  apply(patch: SettingsPatch): Promise<string | null>;
}

export const useSettings = create<SettingsState>()((set) => ({
  settings: null,
  loadError: null,
  async load() {
    try {
      const settings = await getBridge().api.request('getSettings', {});
      set({ settings, loadError: null });
    } catch (e) {
      set({ loadError: e instanceof Error ? e.message : String(e) });
    }
  },
  async apply(patch) {
    try {
      const settings = await getBridge().api.request('setSettings', patch);
      set({ settings });
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  },
}));
