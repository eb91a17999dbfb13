// Splits what the user typed or pasted into entries and checks each loosely; the engine does the real validation.
import type { MessageKey } from '../../i18n/index.ts';

export interface ParsedEntry {
  input: string;
  /** Why the entry cannot be sent, as a message key; null when it looks fine. */
  problem: MessageKey | null;
}

/** Newlines, commas, spaces and tabs all separate entries; duplicates are dropped, first one kept. */
export function splitInputs(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[\s,;]+/)) if (part && !seen.has(part)) seen.add(part);
  return [...seen];
}

export function checkEntry(input: string): MessageKey | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    if (!/^https?:\/\//i.test(input)) return 'add.invalid.scheme';
    try {
      const url = new URL(input);
      return url.hostname ? null : 'add.invalid.url';
    } catch {
      return 'add.invalid.url';
    }
  }
  // A file id is one opaque token: no slashes (that would be a path or a URL missing its scheme), no control characters.
  if (input.includes('/') || input.includes('\\') || /[\u0000-\u001f\u007f]/.test(input)) return 'add.invalid.slash';
  return null;
}

export function parseInputs(text: string): ParsedEntry[] {
  return splitInputs(text).map((input) => ({ input, problem: checkEntry(input) }));
}
