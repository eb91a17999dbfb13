// Table helpers shared by the benchmark reports: one table shape, printed as markdown for docs/benchmarks.md or aligned text for the terminal.
import { MiB } from './files.ts';

export interface Table {
  head: string[];
  rows: string[][];
}

export function markdownTable(t: Table): string {
  const esc = (c: string) => c.replace(/\|/gu, '\\|');
  return [
    `| ${t.head.map(esc).join(' | ')} |`,
    `| ${t.head.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function textTable(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(t.head), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export const fix = (v: number | null, d: number, unit = '') => (v === null ? 'n/a' : `${v.toFixed(d)}${unit}`);

export const sizeLabel = (bytes: number) => (bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`);

export const mib = (bytes: number | null, d = 1) => (bytes === null ? 'n/a' : `${(bytes / MiB).toFixed(d)} MiB`);

export function pct(part: number, whole: number): string {
  return `${((part / Math.max(1, whole)) * 100).toFixed(2)}%`;
}

/** The flags that rerun one part as this run ran it: `--quick` carries its smaller sizes along. */
export function onlyFlags(part: string, quick: boolean): string {
  return `${quick ? '--quick ' : ''}--only ${part}`;
}

/** A target's verdict cell: met, missed, or not measured (null). */
export function verdict(ok: boolean | null): string {
  return ok === null ? 'n/a' : ok ? 'yes' : 'NO';
}
