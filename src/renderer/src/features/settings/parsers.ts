// Turns what the user typed into a settings patch, or a message saying what is wrong with it.
import type { SettingsPatch } from '../../../../shared/contract.ts';
import type { I18n } from '../../i18n/index.ts';
import type { Parse } from './CommitField.tsx';

export const MB = 1_000_000;

export function intParser(i18n: I18n, key: 'connections' | 'parallelFiles' | 'requestsPerMinute', min: number, max: number): Parse {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) return { error: i18n.t('settings.invalidNumber', { min, max }) };
    return { patch: { [key]: n } as SettingsPatch };
  };
}

/** MB/s as typed (decimals allowed) to bytes per second; empty means no cap. */
export function rateParser(i18n: I18n): Parse {
  return (text) => {
    if (text === '') return { patch: { limitRate: null } };
    const n = Number(text.replace(',', '.'));
    if (!Number.isFinite(n) || n <= 0) return { error: i18n.t('settings.invalidRate') };
    return { patch: { limitRate: Math.max(1, Math.round(n * MB)) } };
  };
}

export function rateText(limitRate: number | null): string {
  return limitRate === null ? '' : String(Math.round((limitRate / MB) * 1000) / 1000);
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function urlParser(i18n: I18n, key: 'apiBase' | 'backupApiBase'): Parse {
  return (text) => {
    if (text === '' && key === 'backupApiBase') return { patch: { backupApiBase: null } };
    if (!isHttpUrl(text)) return { error: i18n.t('settings.invalidUrl') };
    return { patch: { [key]: text } as SettingsPatch };
  };
}
