// Sizes, speeds, dates, times and durations formatted for one locale; the Intl objects are built once per locale.
import type { Locale } from './locale.ts';

const UNITS = ['kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

export interface Formatters {
  bytes(n: number): string;
  speed(bytesPerSecond: number): string;
  percent(fraction: number): string;
  number(n: number): string;
  date(iso: string): string;
  dateTime(iso: string): string;
  /** Wall-clock time as hh:mm:ss (24-hour) in the user's time zone. */
  time(epochMs: number): string;
  duration(seconds: number): string;
  month(yyyyMm: string): string;
}

interface DurationFormatLike {
  format(d: { hours?: number; minutes?: number; seconds?: number }): string;
}

/**
 * Decimal units (1 MB = 1,000,000 bytes), matching the unit names Intl prints. unit -1 means plain bytes, written
 * "B" by hand: Intl's short English form is "0 byte", which reads like a typo next to "3 MB".
 */
function scale(n: number): { value: number; unit: number } {
  let unit = -1;
  let value = Math.max(0, n);
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return { value, unit };
}

export function makeFormatters(locale: Locale): Formatters {
  const sizeFmts = UNITS.map((unit) => new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }));
  const speedFmts = UNITS.map(
    (unit) => new Intl.NumberFormat(locale, { style: 'unit', unit: `${unit}-per-second`, unitDisplay: 'short', maximumFractionDigits: 1 }),
  );
  const whole = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const pct = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  const num = new Intl.NumberFormat(locale);
  const dateFmt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const dateTimeFmt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const timeFmt = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const monthFmt = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', timeZone: 'UTC' });
  const DurationFormat = (Intl as unknown as { DurationFormat?: new (l: string, o: object) => DurationFormatLike }).DurationFormat;
  const durFmt = DurationFormat ? new DurationFormat(locale, { style: 'narrow' }) : null;

  const safeDate = (iso: string, f: Intl.DateTimeFormat): string => {
    const t = Date.parse(iso);
    return Number.isFinite(t) ? f.format(t) : iso;
  };

  return {
    bytes(n) {
      const { value, unit } = scale(n);
      return unit < 0 ? `${whole.format(value)} B` : sizeFmts[unit].format(value);
    },
    speed(n) {
      const { value, unit } = scale(n);
      return unit < 0 ? `${whole.format(value)} B/s` : speedFmts[unit].format(value);
    },
    percent: (f) => pct.format(Math.min(1, Math.max(0, f))),
    number: (n) => num.format(n),
    date: (iso) => safeDate(iso, dateFmt),
    dateTime: (iso) => safeDate(iso, dateTimeFmt),
    time: (ms) => timeFmt.format(ms),
    duration(seconds) {
      const s = Math.max(0, Math.round(seconds));
      // Two units are enough for an estimate: "2h 5m", "4m 10s", "9s".
      const parts =
        s >= 3600
          ? { hours: Math.floor(s / 3600), minutes: Math.floor((s % 3600) / 60) }
          : s >= 60
            ? { minutes: Math.floor(s / 60), seconds: s % 60 }
            : { seconds: s };
      if (durFmt) return durFmt.format(parts);
      return [parts.hours && `${parts.hours}h`, parts.minutes && `${parts.minutes}m`, 'seconds' in parts && `${parts.seconds}s`]
        .filter(Boolean)
        .join(' ');
    },
    month(yyyyMm) {
      const m = /^(\d{4})-(\d{2})$/.exec(yyyyMm);
      return m ? monthFmt.format(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)) : yyyyMm;
    },
  };
}
