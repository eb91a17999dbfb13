// Reads config.ini: finds it, checks who may read a file holding a key, and turns its lines into per-setting values with warnings.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { IniSyntaxError, parseIni, type IniEntry } from './ini.ts';
import { LEGACY_KEYS, SETTING_FIELDS } from './setting-fields.ts';
import { SettingsError, type SettingName } from './settings.ts';

/** One setting as config.ini writes it, with the key and line that wrote it (for messages). */
export interface IniValue {
  text: string;
  section: string;
  key: string;
  line: number;
}

export interface ConfigFileValues {
  path: string;
  values: Map<SettingName, IniValue>;
  warnings: string[];
}

/**
 * Reads and interprets the config file at `path`. A missing file is null unless `required` (asked for by --config);
 * any other failure to read it, and any malformed line, is an error.
 */
export function readConfigFile(path: string, required: boolean, platform: NodeJS.Platform = process.platform): ConfigFileValues | null {
  let text: string;
  let mode: number;
  try {
    // One open file for both the mode and the text, so the mode checked is the mode of the file read.
    const fd = openSync(path, 'r');
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw new SettingsError(`config file ${path} is not a regular file`);
      mode = stats.mode;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof SettingsError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    // A data dir that does not exist yet (or sits under a file) simply has no config.ini: the data dir check says the rest.
    if ((code === 'ENOENT' || code === 'ENOTDIR') && !required) return null;
    throw new SettingsError(code === 'ENOENT' ? `config file ${path} does not exist (given with --config)` : `cannot read config file ${path}: ${(error as Error).message}`);
  }
  let entries: IniEntry[];
  try {
    entries = parseIni(text, path);
  } catch (error) {
    if (error instanceof IniSyntaxError) throw new SettingsError(`config file ${error.message}`);
    throw error;
  }
  const result = interpret(entries, path);
  const key = result.values.get('apiKey');
  // POSIX permission bits mean nothing on Windows (ACLs decide there), so the check would only cry wolf.
  if (key && key.text.trim() !== '' && platform !== 'win32' && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    result.warnings.push(`${path} holds an api_key and other users may read it (mode ${octal}): run chmod 600 ${path}`);
  }
  return result;
}

/** Maps entries to settings; unknown names and the article's old keys become warnings, never silent surprises. */
function interpret(entries: IniEntry[], path: string): ConfigFileValues {
  const values = new Map<SettingName, IniValue>();
  const legacy = new Map<string, IniEntry>();
  const warnings: string[] = [];
  const seen = new Map<string, number>();
  for (const entry of entries) {
    const name = `${entry.section}.${entry.key}`;
    const earlier = seen.get(name);
    if (earlier !== undefined) warnings.push(`${entry.key} appears twice in [${entry.section}] of ${path} (lines ${earlier} and ${entry.line}): the last one counts`);
    seen.set(name, entry.line);
    const field = SETTING_FIELDS.find((candidate) => candidate.section === entry.section && candidate.key === entry.key);
    if (field) {
      values.set(field.setting, { text: entry.value, section: entry.section, key: entry.key, line: entry.line });
    } else if ((LEGACY_KEYS as Record<string, readonly string[]>)[entry.section]?.includes(entry.key)) {
      legacy.set(name, entry);
    } else if (entry.section === '') {
      warnings.push(`key ${entry.key} on line ${entry.line} of ${path} is outside any [section] (ignored)`);
    } else if (!SETTING_FIELDS.some((candidate) => candidate.section === entry.section)) {
      warnings.push(`unknown section [${entry.section}] in ${path} (ignored)`);
    } else {
      warnings.push(`unknown key ${entry.key} in [${entry.section}] of ${path} (ignored)`);
    }
  }
  applyLegacy(legacy, values, warnings, path);
  return { path, values, warnings };
}

/**
 * The article's sample config.ini predates Filehaul's names. Its `timeout = 30` feeds Python requests' single
 * timeout, which applies to connecting and to each read alike, so it becomes both connect_timeout and read_timeout;
 * its `chunk_size` (the piece size) is the nearest thing to min_split_size. The new names win when both are written.
 */
function applyLegacy(legacy: Map<string, IniEntry>, values: Map<SettingName, IniValue>, warnings: string[], path: string): void {
  const timeout = legacy.get('network.timeout');
  if (timeout) {
    const value = { text: timeout.value, section: timeout.section, key: timeout.key, line: timeout.line };
    const taken: string[] = [];
    if (!values.has('connectTimeoutMs')) {
      values.set('connectTimeoutMs', value);
      taken.push('connect_timeout');
    }
    if (!values.has('readTimeoutMs')) {
      values.set('readTimeoutMs', value);
      taken.push('read_timeout');
    }
    warnings.push(
      taken.length > 0
        ? `timeout in [network] of ${path} is deprecated: read as ${taken.join(' and ')}; write connect_timeout and read_timeout (or preset) instead`
        : `timeout in [network] of ${path} is deprecated and ignored: connect_timeout and read_timeout are set`,
    );
  }
  const chunk = legacy.get('storage.chunk_size');
  if (chunk) {
    if (!values.has('minSplitBytes')) {
      values.set('minSplitBytes', { text: chunk.value, section: chunk.section, key: chunk.key, line: chunk.line });
      warnings.push(`chunk_size in [storage] of ${path} is deprecated: read as min_split_size (the smallest range worth its own request); rename it`);
    } else {
      warnings.push(`chunk_size in [storage] of ${path} is deprecated and ignored: min_split_size is set`);
    }
  }
}
