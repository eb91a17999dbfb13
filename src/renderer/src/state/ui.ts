// UI-only state: which screen is open, the language, which download rows are expanded. Nothing here comes from the engine.
import { create } from 'zustand';
import { resolveLocale, type Locale, type LocalePref } from '../i18n/locale.ts';

export type Screen = 'downloads' | 'add' | 'remote' | 'archive' | 'settings';
export const SCREENS: readonly Screen[] = ['downloads', 'add', 'remote', 'archive', 'settings'];

const LOCALE_KEY = 'filehaul.locale';

function storedPref(): LocalePref {
  try {
    const v = localStorage.getItem(LOCALE_KEY);
    return v === 'en' || v === 'zh-CN' ? v : 'system';
  } catch {
    return 'system';
  }
}

function languages(): readonly string[] {
  return typeof navigator === 'undefined' ? [] : navigator.languages?.length ? navigator.languages : [navigator.language];
}

interface UiState {
  screen: Screen;
  localePref: LocalePref;
  locale: Locale;
  /** Download ids whose segment panel is open. */
  expanded: Readonly<Record<string, true>>;
  setScreen(screen: Screen): void;
  setLocalePref(pref: LocalePref): void;
  toggleExpanded(id: string): void;
}

const initialPref = typeof window === 'undefined' ? 'system' : storedPref();

export const useUi = create<UiState>()((set) => ({
  screen: 'downloads',
  localePref: initialPref,
  locale: resolveLocale(initialPref, languages()),
  expanded: {},
  setScreen: (screen) => set({ screen }),
  setLocalePref(pref) {
    try {
      if (pref === 'system') localStorage.removeItem(LOCALE_KEY);
      else localStorage.setItem(LOCALE_KEY, pref);
    } catch {
      // Without storage the choice lasts for this session only.
    }
    set({ localePref: pref, locale: resolveLocale(pref, languages()) });
  },
  toggleExpanded: (id) =>
    set((s) => {
      const next = { ...s.expanded };
      if (next[id]) delete next[id];
      else next[id] = true;
      return { expanded: next };
    }),
}));
