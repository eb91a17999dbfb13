// Tests for safe-name.ts: portable single-component file names, checked by examples and by property.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { safeFileName, truncateUtf8, utf8Length, withCopySuffix } from '../../src/main/archive/safe-name.ts';

const FB = 'file_abc';
const safe = (name: string | null | undefined): string => safeFileName(name, FB);

const RESERVED = /^(?:con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])$/iu;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** Every property a placed file name must have, asserted in one place. */
function expectPortable(result: string): void {
  expect(result.length).toBeGreaterThan(0);
  expect(utf8Length(result)).toBeLessThanOrEqual(255);
  expect(result).not.toMatch(/[\\/<>:"|?*]/u);
  expect(result).not.toMatch(CONTROL);
  expect(result).not.toMatch(/[. ]$/u);
  expect(result).not.toMatch(/^ /u);
  expect(result).not.toBe('.');
  expect(result).not.toBe('..');
  expect(result.normalize('NFC')).toBe(result);
  expect(result.isWellFormed()).toBe(true);
  expect(RESERVED.test(result.split('.')[0].replace(/ +$/u, ''))).toBe(false);
}

// Names built from the characters that cause trouble, so the properties meet them often.
const nasty = fc
  .array(
    fc.oneof(
      fc.constantFrom('.', '..', ' ', '/', '\\', ':', 'C:', 'con', 'NUL', 'com1', 'LPT¹', '.txt', '.tar.gz', '\u0000', '\n',
        '\u0085', '\u0301', 'e', 'é', '가', '\u11a8', '👨‍👩‍👧', '\ud800', '<', '\u0338', '*', '?', '"', '|'),
      fc.string({ unit: 'binary', maxLength: 4 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('a', '.', ' ', 'é', '😀', '\u0301'), maxLength: 400 }),
  nasty,
  fc.string({ maxLength: 50 }),
);

describe('safeFileName properties', () => {
  it('always returns a portable, normalized single component', () => {
    fc.assert(fc.property(anyString, (s) => {
      expectPortable(safe(s));
    }), { numRuns: 2000 });
  });

  it('is idempotent', () => {
    fc.assert(fc.property(anyString, (s) => {
      const once = safe(s);
      expect(safe(once)).toBe(once);
    }), { numRuns: 2000 });
  });

  it('sanitizes a hostile fallback too', () => {
    fc.assert(fc.property(anyString, anyString, (name, fallback) => {
      expectPortable(safeFileName(name, fallback));
    }));
  });

  it('leaves ordinary names alone', () => {
    const ordinary = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 _-]{0,40}[A-Za-z0-9]\.[a-z]{1,5}$/u)
      .filter((s) => !RESERVED.test(s.split('.')[0]));
    fc.assert(fc.property(ordinary, (s) => {
      expect(safe(s)).toBe(s);
    }));
  });
});

describe('safeFileName examples', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\x\\y.txt', 'y.txt'],
    ['C:y.txt', 'y.txt'],
    ['dir/sub/', 'sub'],
    ['a<b>c:d"e|f?g*h.txt', 'a_b_c_d_e_f_g_h.txt'],
    ['line\nbreak\r\t.txt', 'linebreak.txt'],
    ['nul\u0000byte\u007f\u0085.txt', 'nulbyte.txt'],
    ['trailing. . .', 'trailing'],
    ['   leading.txt  ', 'leading.txt'],
    ['.bashrc', '.bashrc'],
    ['CON', 'CON_'],
    ['con.txt', 'con_.txt'],
    ['Nul.tar.gz', 'Nul_.tar.gz'],
    ['COM1', 'COM1_'],
    ['lpt9.log', 'lpt9_.log'],
    ['COM¹.txt', 'COM¹_.txt'],
    ['CON .txt', 'CON_ .txt'],
    ['console.txt', 'console.txt'],
    ['COM10.txt', 'COM10.txt'],
    ['e\u0301te\u0301.txt', 'été.txt'],
  ])('%j → %j', (input, expected) => {
    expect(safe(input)).toBe(expected);
  });

  it.each([null, undefined, '', '.', '..', '...', ' ', '/', '\\', '../..', 'C:', '\u0000\n', '. .'])(
    '%j falls back',
    (input) => {
      expect(safe(input)).toBe(FB);
    },
  );

  it('sanitizes the fallback and has a last resort', () => {
    expect(safeFileName('..', '../evil/con')).toBe('con_');
    expect(safeFileName('', '')).toBe('download');
    expect(safeFileName(null, '..')).toBe('download');
  });

  it('replaces lone surrogates rather than producing unencodable names', () => {
    expect(safe('a\ud800b.txt')).toBe('a\ufffdb.txt');
  });

  it('truncates to 255 bytes keeping the extension', () => {
    const out = safe('x'.repeat(400) + '.pdf');
    expect(out).toBe('x'.repeat(251) + '.pdf');
  });

  it('never splits multi-byte characters or graphemes', () => {
    const out = safe('é'.repeat(200) + '.txt'); // 2 bytes each
    expect(utf8Length(out)).toBeLessThanOrEqual(255);
    expect(out).toBe('é'.repeat(125) + '.txt');
    const family = '👨‍👩‍👧'; // 18 bytes, one grapheme
    const emoji = safe(family.repeat(20));
    expect(emoji).toBe(family.repeat(14));
    const decomposed = safe(('a' + '\u0301\u0302').repeat(100));
    expect(decomposed.length % 3).toBe(0); // whole clusters only
  });

  it('treats an absurdly long extension as part of the base', () => {
    const out = safe('notes.' + 'y'.repeat(300));
    expect(out).toBe('notes.' + 'y'.repeat(249));
  });

  it('stays reserved-safe when truncation lands on a device name', () => {
    // "CON" followed by one giant grapheme: cutting between graphemes leaves "CON", which must still get "_".
    const out = safe('CON' + 'x' + '\u0301'.repeat(200));
    expectPortable(out);
    expect(out).toBe('CON_');
  });
});

describe('withCopySuffix', () => {
  it.each([
    ['report.pdf', 2, 'report (2).pdf'],
    ['report', 3, 'report (3)'],
    ['.bashrc', 2, '.bashrc (2)'],
    ['archive.tar.gz', 2, 'archive (2).tar.gz'],
    ['data.csv.zst', 12, 'data (12).csv.zst'],
    ['photo.2024.jpg', 2, 'photo.2024 (2).jpg'],
    ['weird.tar.gz.', 2, 'weird (2).tar.gz'],
  ])('%j, %i → %j', (name, n, expected) => {
    expect(withCopySuffix(name, n)).toBe(expected);
  });

  it('keeps within 255 bytes and keeps the extension', () => {
    const long = 'z'.repeat(251) + '.pdf';
    const out = withCopySuffix(long, 10_000);
    expect(utf8Length(out)).toBe(255);
    expect(out.endsWith(' (10000).pdf')).toBe(true);
  });

  it('rejects nonsense copy numbers', () => {
    expect(() => withCopySuffix('a.txt', 0)).toThrow(RangeError);
    expect(() => withCopySuffix('a.txt', 1.5)).toThrow(RangeError);
  });

  it('produces safe names that differ from the original', () => {
    fc.assert(fc.property(anyString, fc.integer({ min: 2, max: 100_000 }), (s, n) => {
      const base = safe(s);
      const copy = withCopySuffix(base, n);
      expectPortable(copy);
      expect(safe(copy)).toBe(copy);
      expect(copy).not.toBe(base);
      expect(copy).toContain(` (${n})`);
    }), { numRuns: 1000 });
  });
});

describe('truncateUtf8', () => {
  it('falls back to code points when a single grapheme is too long', () => {
    const out = truncateUtf8('a' + '\u0301'.repeat(100), 10);
    expect(out).toBe('a' + '\u0301'.repeat(4));
  });
  it('never returns a broken surrogate pair', () => {
    expect(truncateUtf8('😀😀', 5)).toBe('😀');
    expect(truncateUtf8('😀', 3)).toBe('');
  });
});
