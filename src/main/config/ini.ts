// A small INI parser for config.ini in the source article's shape: [sections], key = value, ;/# comments.

/** One `key = value` line, kept with its line number so later errors can point at it. */
export interface IniEntry {
  /** Lower-cased section name; '' for keys written before any [section]. */
  section: string;
  /** Lower-cased key. */
  key: string;
  value: string;
  line: number;
}

/** A line that is neither a comment, a [section] nor key = value. */
export class IniSyntaxError extends Error {
  readonly line: number;
  constructor(file: string, line: number, problem: string) {
    super(`${file} line ${line}: ${problem}`);
    this.name = 'IniSyntaxError';
    this.line = line;
  }
}

/**
 * Parses INI text into entries in file order (duplicates kept; the caller decides that the last one wins).
 * Names are lower-cased because Python's configparser, which the article's users know, treats keys that way.
 * `file` only names the source in error messages, which never quote the line: a malformed one may hold a key.
 */
export function parseIni(text: string, file: string): IniEntry[] {
  const entries: IniEntry[] = [];
  let section = '';
  // A byte-order mark from Windows editors would otherwise make the first line malformed.
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) return;
    if (line.startsWith('[')) {
      const match = /^\[([^\]]*)\]\s*(?:[;#].*)?$/.exec(line);
      if (!match || match[1].trim() === '') throw new IniSyntaxError(file, lineNumber, 'malformed section header (expected [name])');
      section = match[1].trim().toLowerCase();
      return;
    }
    const equals = line.indexOf('=');
    if (equals < 0) throw new IniSyntaxError(file, lineNumber, 'expected "key = value", a [section] or a comment');
    const key = line.slice(0, equals).trim().toLowerCase();
    if (key === '') throw new IniSyntaxError(file, lineNumber, 'a line starts with "=" (the key is missing)');
    entries.push({ section, key, value: parseValue(line.slice(equals + 1), file, lineNumber), line: lineNumber });
  });
  return entries;
}

/**
 * Quotes are optional; a quoted value keeps # and ; literally. Unquoted, `# …` or `; …` after whitespace is a
 * comment (the article writes `chunk_size = 104857600 # 100MB`), while a # inside a word (a URL fragment) is not.
 */
function parseValue(rest: string, file: string, lineNumber: number): string {
  const text = rest.trim();
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    const close = text.indexOf(quote, 1);
    if (close < 0) throw new IniSyntaxError(file, lineNumber, `the value opens a ${quote} quote that never closes`);
    const after = text.slice(close + 1).trim();
    if (after !== '' && !after.startsWith('#') && !after.startsWith(';')) {
      throw new IniSyntaxError(file, lineNumber, 'unexpected text after the closing quote');
    }
    return text.slice(1, close);
  }
  const comment = /\s[#;]/.exec(text);
  return (comment ? text.slice(0, comment.index) : text).trim();
}
