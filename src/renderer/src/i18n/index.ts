// Translation for components: useI18n() gives t/tn and formatters for the locale the UI store has resolved.
import { useMemo } from 'react';
import { en, type MessageKey, type Messages } from './en.ts';
import { zhCN } from './zh-CN.ts';
import { makeFormatters, type Formatters } from './format.ts';
import type { Locale } from './locale.ts';
import { useUi } from '../state/ui.ts';

export type { MessageKey } from './en.ts';
export type { Locale, LocalePref } from './locale.ts';

const DICTIONARIES: Record<Locale, Messages> = { en, 'zh-CN': zhCN };

type Vars = Record<string, string | number>;

/** Keys that come in _one/_other pairs, named without the suffix. */
type PluralBase = MessageKey extends infer K ? (K extends `${infer B}_other` ? B : never) : never;

export interface I18n {
  locale: Locale;
  t(key: MessageKey, vars?: Vars): string;
  /** Picks the plural form for n (also available to the message as {n}). */
  tn(key: PluralBase, n: number, vars?: Vars): string;
  fmt: Formatters;
}

export function makeI18n(locale: Locale): I18n {
  const dict = DICTIONARIES[locale];
  const plural = new Intl.PluralRules(locale);
  const fmt = makeFormatters(locale);
  const fill = (text: string, vars?: Vars): string =>
    vars ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : text;
  const t = (key: MessageKey, vars?: Vars): string => fill(dict[key] ?? en[key], vars);
  return {
    locale,
    t,
    tn(key, n, vars) {
      const form = plural.select(n) === 'one' ? 'one' : 'other';
      return t(`${key}_${form}` as MessageKey, { n: fmt.number(n), ...vars });
    },
    fmt,
  };
}

const cache = new Map<Locale, I18n>();

export function i18nFor(locale: Locale): I18n {
  let i = cache.get(locale);
  if (!i) cache.set(locale, (i = makeI18n(locale)));
  return i;
}

export function useI18n(): I18n {
  const locale = useUi((s) => s.locale);
  return useMemo(() => i18nFor(locale), [locale]);
}
