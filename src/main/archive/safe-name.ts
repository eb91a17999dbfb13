// Safe file names: turns whatever name a remote source offers into one path component valid on Linux, macOS and Windows.

/** Most file systems (ext4, APFS, NTFS) cap one component at 255 bytes; UTF-8 bytes is the strictest reading. */
export const MAX_NAME_BYTES = 255;

/** A longer "extension" is really part of the name (e.g. `notes.<300 chars>`), so it may be truncated. */
const MAX_EXTENSION_BYTES = 32;

/** Last resort when both the name and the fallback clean to nothing; already safe by construction. */
const LAST_RESORT_NAME = 'download';

// C0 and C1 controls plus the Unicode line/paragraph separators: none belong in a name, and newlines break logs and shells.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu;
// Characters Windows refuses in names; `:` also stands for `/` in macOS Finder. Separators are gone before this runs.
const WINDOWS_FORBIDDEN = /[<>:"|?*]/gu;
const SEPARATORS = /[\\/]/u;
const DRIVE_PREFIX = /^[A-Za-z]:/u;
const LEADING_SPACES = /^ +/u;
// Windows silently drops trailing dots and spaces, so `a.` and `a` would collide; drop them ourselves.
const TRAILING_DOTS_SPACES = /[. ]+$/u;
// Windows devices; the part before the first dot decides, so `con.txt` and `nul.tar.gz` are devices too.
// COM0/LPT0 and the superscript digits are listed by Microsoft as reserved as well.
const RESERVED_STEM = /^(?:con|prn|aux|nul|conin\$|conout\$|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])$/iu;
// Compression suffixes that usually sit on top of another extension (`.tar.gz`, `.csv.zst`).
const COMPRESSION_EXT = /^\.(?:gz|bz2|xz|zst|lz|lz4|lzma|lzo|br|z|sz)$/iu;
const INNER_EXT = /^\.[A-Za-z0-9]{1,8}$/u;

const encoder = new TextEncoder();
// Made on first use: building a segmenter loads ICU's break rules, ~20 ms that most runs never need.
let graphemes: Intl.Segmenter | null = null;

/** Size of a string as the file system will store it. */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/**
 * Returns a single, portable path component for `name`; when nothing usable is left, returns the sanitized
 * `fallback` instead (and `download` if even that is empty). Idempotent: a safe name comes back unchanged.
 */
export function safeFileName(name: string | null | undefined, fallback: string): string {
  const cleaned = settle(name ?? '');
  if (cleaned !== '') return cleaned;
  const cleanedFallback = settle(fallback ?? '');
  return cleanedFallback !== '' ? cleanedFallback : LAST_RESORT_NAME;
}

/**
 * The n-th copy of a name: `report.pdf`, 2 → `report (2).pdf`; `archive.tar.gz` → `archive (2).tar.gz`.
 * The base is shortened when needed so the result still fits in 255 bytes.
 */
export function withCopySuffix(name: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Copy number must be a positive integer, got ${n}`);
  const safe = safeFileName(name, LAST_RESORT_NAME);
  const suffix = ` (${n})`;
  const { base, ext } = splitForCopy(safe);
  const budget = MAX_NAME_BYTES - utf8Length(suffix) - utf8Length(ext);
  // A base can only be too long for the suffix when it is hundreds of bytes, so the budget is always generous.
  const shortBase = truncateUtf8(base, budget);
  // Run the result through the sanitizer once more so any edge (NFC at the seam, a cut grapheme) is settled.
  return safeFileName(shortBase + suffix + ext, safe);
}

/**
 * Applies one cleaning pass until nothing changes. A single pass already settles real-world names; iterating
 * makes idempotence hold by construction even for contrived inputs (e.g. truncation exposing a trailing dot).
 */
function settle(raw: string): string {
  let current = cleanOnce(String(raw));
  for (let i = 0; i < 8; i++) {
    const next = cleanOnce(current);
    if (next === current) return current;
    current = next;
  }
  return current;
}

function cleanOnce(raw: string): string {
  // Lone surrogates cannot be encoded; make them U+FFFD first so byte counts match what lands on disk.
  // Controls go before NFC so marks that were separated by a control compose properly.
  let s = raw.toWellFormed().replace(CONTROL_CHARS, '').normalize('NFC');
  s = lastComponent(s);
  s = s.replace(DRIVE_PREFIX, '');
  s = s.replace(WINDOWS_FORBIDDEN, '_');
  s = trimEdges(s);
  if (s === '' || s === '.' || s === '..') return '';
  s = fixReserved(s);
  s = fitLength(s);
  s = trimEdges(s);
  return fixReserved(s);
}

/** `../../etc/passwd` → `passwd`, `C:\x\y.txt` → `y.txt`; a trailing separator (`dir/`) keeps the directory name. */
function lastComponent(s: string): string {
  const parts = s.split(SEPARATORS).filter((part) => part !== '');
  return parts.length > 0 ? parts[parts.length - 1] : '';
}

function trimEdges(s: string): string {
  return s.replace(LEADING_SPACES, '').replace(TRAILING_DOTS_SPACES, '');
}

/** `CON` → `CON_`, `con.txt` → `con_.txt`: the suffix goes on the stem, which is what Windows looks at. */
function fixReserved(s: string): string {
  const dot = s.indexOf('.');
  const stem = dot === -1 ? s : s.slice(0, dot);
  // Windows also ignores spaces before the dot (`CON .txt`), so compare without them.
  const bare = stem.replace(/ +$/u, '');
  if (!RESERVED_STEM.test(bare)) return s;
  return bare + '_' + s.slice(bare.length);
}

/** Shortens the base to fit 255 bytes while keeping a sensible extension. */
function fitLength(s: string): string {
  if (utf8Length(s) <= MAX_NAME_BYTES) return s;
  const { base, ext } = splitExtension(s);
  return truncateUtf8(base, MAX_NAME_BYTES - utf8Length(ext)) + ext;
}

/** Splits at the last dot; a leading dot (`.bashrc`) is not an extension, nor is an absurdly long tail. */
export function splitExtension(name: string): { base: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return { base: name, ext: '' };
  const ext = name.slice(dot);
  if (utf8Length(ext) > MAX_EXTENSION_BYTES) return { base: name, ext: '' };
  return { base: name.slice(0, dot), ext };
}

/** Like splitExtension, but keeps `.tar.gz`-style double extensions together so copies read `x (2).tar.gz`. */
function splitForCopy(name: string): { base: string; ext: string } {
  const outer = splitExtension(name);
  if (outer.ext === '' || !COMPRESSION_EXT.test(outer.ext)) return outer;
  const inner = splitExtension(outer.base);
  if (inner.ext === '' || !INNER_EXT.test(inner.ext)) return outer;
  return { base: inner.base, ext: inner.ext + outer.ext };
}

/**
 * The longest prefix of `text` within `maxBytes` UTF-8 bytes, cut between graphemes so no accent, emoji or
 * surrogate pair is split. Only when the first grapheme alone is too long (a base with hundreds of marks)
 * does it fall back to whole code points.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (utf8Length(text) <= maxBytes) return text;
  let out = '';
  let used = 0;
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of graphemes.segment(text)) {
    const size = utf8Length(segment);
    if (used + size > maxBytes) break;
    out += segment;
    used += size;
  }
  if (out !== '') return out;
  for (const codePoint of text) {
    const size = utf8Length(codePoint);
    if (used + size > maxBytes) break;
    out += codePoint;
    used += size;
  }
  return out;
}
