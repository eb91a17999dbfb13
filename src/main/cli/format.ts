// Human-readable sizes, speeds and durations for the terminal.

export { formatBytes } from '../util/format-bytes.ts';

export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) return '--:--';
  const seconds = Math.round(milliseconds / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const mmss = `${String(minutes).padStart(2, '0')}:${String(rest).padStart(2, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

/** Parses a byte count with an optional unit: 1048576, 512K, 1M, 1MiB, 2G (binary multiples, as aria2 does). */
export function parseByteSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) return null;
  const power = ['', 'k', 'm', 'g', 't'].indexOf(match[2].toLowerCase());
  const value = Math.floor(Number(match[1]) * 1024 ** power);
  return Number.isSafeInteger(value) ? value : null;
}

/** Text from a server or a file name made safe to print: control characters (terminal escapes) become "?". */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
