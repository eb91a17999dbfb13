// Tests for ini.ts: sections, comments, inline comments, quotes, and malformed lines reported by line number.
import { describe, expect, it } from 'vitest';
import { IniSyntaxError, parseIni } from '../../src/main/config/ini.ts';

describe('parseIni', () => {
  it('reads sections, keys and values, skipping ; and # comments and blank lines', () => {
    const entries = parseIni('; top comment\n# another\n\n[Network]\nConnections = 8\n  max_retries=5  \n', 'x.ini');
    expect(entries).toEqual([
      { section: 'network', key: 'connections', value: '8', line: 5 },
      { section: 'network', key: 'max_retries', value: '5', line: 6 },
    ]);
  });

  it('drops an inline comment after whitespace, as in the article\'s chunk_size = 104857600 # 100MB', () => {
    const entries = parseIni('[storage]\nchunk_size = 104857600 # 100MB\nbase_dir = ./data ; where\n', 'x.ini');
    expect(entries.map((entry) => entry.value)).toEqual(['104857600', './data']);
  });

  it('keeps a # inside a word, and # or ; inside quotes', () => {
    const entries = parseIni('[network]\napi_base = https://host/path#frag\nproxy = "http://p:3128 # not a comment" # but this is\nkey = \'a;b\'\n', 'x.ini');
    expect(entries.map((entry) => entry.value)).toEqual(['https://host/path#frag', 'http://p:3128 # not a comment', 'a;b']);
  });

  it('accepts CRLF line ends and a byte-order mark', () => {
    expect(parseIni('\uFEFF[auth]\r\napi_key = k\r\n', 'x.ini')).toEqual([{ section: 'auth', key: 'api_key', value: 'k', line: 2 }]);
  });

  it('gives keys before any section the empty section', () => {
    expect(parseIni('stray = 1\n', 'x.ini')[0].section).toBe('');
  });

  it.each([
    ['[network]\nconnections 8\n', 2],
    ['[network\n', 1],
    ['[]\n', 1],
    ['[auth]\n= value\n', 2],
    ['[auth]\n\napi_key = "unclosed\n', 3],
    ['[auth]\napi_key = "a" trailing\n', 2],
  ])('reports the line of a malformed line: %j', (text, line) => {
    let error: unknown;
    try {
      parseIni(text, '/x/config.ini');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(IniSyntaxError);
    expect((error as IniSyntaxError).line).toBe(line);
    expect((error as Error).message).toContain(`/x/config.ini line ${line}:`);
  });

  it('never quotes a malformed line (it may be a pasted key)', () => {
    expect(() => parseIni('[auth]\nsk-ant-secret-value-1234\n', 'x.ini')).toThrow(/line 2/);
    expect(() => parseIni('[auth]\nsk-ant-secret-value-1234\n', 'x.ini')).not.toThrow(/sk-ant/);
  });
});
