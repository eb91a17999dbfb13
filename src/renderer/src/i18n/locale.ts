// Which language to show: the user's choice, else the first OS language we have a dictionary for.
export type Locale = 'en' | 'zh-CN';
export type LocalePref = 'system' | Locale;

export const LOCALES: readonly Locale[] = ['en', 'zh-CN'];

/** zh, zh-CN, zh-Hans-… read Simplified Chinese; zh-TW/zh-HK readers are better served by English than by the wrong script. */
export function detectLocale(languages: readonly string[]): Locale {
  for (const raw of languages) {
    const lang = raw.toLowerCase();
    if (lang === 'zh' || lang.startsWith('zh-cn') || lang.startsWith('zh-hans') || lang.startsWith('zh-sg')) return 'zh-CN';
    if (lang.startsWith('en')) return 'en';
  }
  return 'en';
}

export function resolveLocale(pref: LocalePref, languages: readonly string[]): Locale {
  return pref === 'system' ? detectLocale(languages) : pref;
}

/** Each language named in itself, so a reader of either can find their way back. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', 'zh-CN': '简体中文' };
