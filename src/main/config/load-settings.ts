// Builds the effective Settings from flags > environment > config.ini > defaults, remembering where each value came from.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readConfigFile, type ConfigFileValues } from './config-file.ts';
import { PRESETS } from './presets.ts';
import { SETTING_FIELDS, fieldFor, type SettingField } from './setting-fields.ts';
import { DEFAULT_SETTINGS, SOURCE_RANK, SettingsError, type SettingName, type SettingSource, type Settings } from './settings.ts';
import { apiKey as parseApiKey, maskUrlPassword } from './values.ts';

export interface LoadSettingsOptions {
  /** Parsed command-line flags by name without dashes (`connections`, `api-key-file`, `dir`, `config`…); others are ignored. */
  flags?: Partial<Record<string, string | boolean | undefined>>;
  env?: Record<string, string | undefined>;
  /** config.ini to read instead of <dataDir>/config.ini; it must exist. Overrides flags.config. */
  configPath?: string;
  /** Relative paths (--dir, base_dir, --config) resolve against this; default process.cwd(). */
  cwd?: string;
  /** For the config.ini permission check; default process.platform. */
  platform?: NodeJS.Platform;
}

export interface LoadedSettings {
  settings: Settings;
  provenance: Record<SettingName, SettingSource>;
  /** The same, in words for people: "env FILEHAUL_CONNECTIONS", "config.ini [network] connections, line 4", "preset lan (flag --preset)". */
  origins: Record<SettingName, string>;
  warnings: string[];
  /** The config.ini that was read, or null when there was none. */
  configPath: string | null;
}

/** One written value competing for a setting. */
interface Candidate {
  source: Exclude<SettingSource, 'default'>;
  text: string;
  /** "flag --connections", "env FILEHAUL_CONNECTIONS", "config.ini [network] connections, line 4". */
  origin: string;
  /** How an error message names it, value included unless secret: "connections = 99 in /x/config.ini [network]". */
  describe: (shownValue: string | null) => string;
}

export function loadSettings(options: LoadSettingsOptions = {}): LoadedSettings {
  const flags = options.flags ?? {};
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();

  // config.ini is looked up in the data dir named by a flag, the environment or the default — never by its own
  // base_dir, which cannot tell us where to find the file it is written in. Its base_dir may still move the data.
  const lookupDir = path.resolve(cwd, flagText(flags, 'dir') ?? envText(env, 'FILEHAUL_DIR') ?? DEFAULT_SETTINGS.dataDir);
  const explicitConfig = options.configPath ?? flagText(flags, 'config');
  const configFile = explicitConfig !== undefined
    ? readConfigFile(path.resolve(cwd, explicitConfig), true, options.platform)
    : readConfigFile(path.join(lookupDir, 'config.ini'), false, options.platform);

  const settings = { ...DEFAULT_SETTINGS };
  const provenance = {} as Record<SettingName, SettingSource>;
  const origins = {} as Record<SettingName, string>;
  const assign = <K extends SettingName>(setting: K, value: Settings[K], source: SettingSource, origin: string) => {
    settings[setting] = value;
    provenance[setting] = source;
    origins[setting] = origin;
  };

  for (const field of SETTING_FIELDS) {
    if (field.setting === 'connectTimeoutMs' || field.setting === 'readTimeoutMs') continue;
    const candidate = winner(candidatesFor(field, flags, env, configFile, cwd));
    if (!candidate) assign(field.setting, DEFAULT_SETTINGS[field.setting], 'default', 'default');
    else assign(field.setting, parseCandidate(field, candidate), candidate.source, candidate.origin);
  }

  // A preset sets both timeouts; one timeout written at a higher (or equal) precedence overrides it.
  for (const setting of ['connectTimeoutMs', 'readTimeoutMs'] as const) {
    const field = fieldFor(setting);
    const explicit = winner(candidatesFor(field, flags, env, configFile, cwd));
    if (explicit && SOURCE_RANK[explicit.source] >= SOURCE_RANK[provenance.preset]) {
      assign(setting, parseCandidate(field, explicit), explicit.source, explicit.origin);
    } else {
      const presetOrigin = provenance.preset === 'default' ? 'default' : origins.preset;
      assign(setting, PRESETS[settings.preset][setting], provenance.preset, `preset ${settings.preset} (${presetOrigin})`);
    }
  }

  // A relative base_dir is relative to the working directory, as the article's script reads `base_dir = ./data`
  // (relative to the file, its sample placed in data/config.ini would point at data/data).
  settings.dataDir = path.resolve(cwd, settings.dataDir);
  return { settings, provenance: inSettingsOrder(provenance), origins: inSettingsOrder(origins), warnings: configFile?.warnings ?? [], configPath: configFile?.path ?? null };
}

function candidatesFor(field: SettingField, flags: LoadSettingsOptions['flags'] & object, env: Record<string, string | undefined>, configFile: ConfigFileValues | null, cwd: string): Candidate[] {
  const candidates: Candidate[] = [];
  const fromIni = configFile?.values.get(field.setting);
  if (fromIni && configFile) {
    candidates.push({
      source: 'config.ini',
      text: fromIni.text,
      origin: `config.ini [${fromIni.section}] ${fromIni.key}, line ${fromIni.line}`,
      describe: (shown) => `${fromIni.key}${shown === null ? '' : ` = ${shown}`} in ${configFile.path} [${fromIni.section}]`,
    });
  }
  const envValue = field.env ? envText(env, field.env) : undefined;
  if (field.env && envValue !== undefined) {
    const name = field.env;
    candidates.push({ source: 'env', text: envValue, origin: `env ${name}`, describe: (shown) => `${name}${shown === null ? '' : `=${shown}`} in the environment` });
  }
  const flagValue = field.flag ? flagText(flags, field.flag) : undefined;
  if (field.flag && flagValue !== undefined) {
    const name = field.flag;
    candidates.push({ source: 'flag', text: flagValue, origin: `flag --${name}`, describe: (shown) => `--${name}${shown === null ? '' : ` ${shown}`} on the command line` });
  }
  if (field.setting === 'apiKey') {
    const keyFile = flagText(flags, 'api-key-file');
    if (keyFile !== undefined) {
      const file = path.resolve(cwd, keyFile);
      candidates.push({ source: 'flag', text: readKeyFile(file), origin: `flag --api-key-file ${keyFile}`, describe: () => `the key in ${file} (--api-key-file)` });
    }
  }
  return candidates;
}

/** Same keys, in the order Settings lists them, so printed provenance reads like the settings. */
function inSettingsOrder<T>(record: Record<SettingName, T>): Record<SettingName, T> {
  return Object.fromEntries((Object.keys(DEFAULT_SETTINGS) as SettingName[]).map((name) => [name, record[name]])) as Record<SettingName, T>;
}

function winner(candidates: Candidate[]): Candidate | undefined {
  return candidates.reduce<Candidate | undefined>((best, next) => (!best || SOURCE_RANK[next.source] > SOURCE_RANK[best.source] ? next : best), undefined);
}

/** Only the winning value is checked: a broken lower source can be overridden for one run while it gets fixed. */
function parseCandidate<K extends SettingName>(field: SettingField<K>, candidate: Candidate): Settings[K] {
  const parsed = field.parse(candidate.text);
  if (parsed.ok) return parsed.value;
  const text = candidate.text.trim();
  const shown = field.show === 'never' ? null : text === '' ? '""' : field.show === 'masked' ? maskUrlPassword(text) : text;
  throw new SettingsError(`${candidate.describe(shown)}: must ${parsed.allowed}`, field.setting, candidate.source);
}

/** The key file is read here so the key, like every other setting, has one place it comes from. */
function readKeyFile(file: string): string {
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file');
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new SettingsError(`cannot read the API key file ${file} (--api-key-file): ${reason}`, 'apiKey', 'flag');
  }
  if (!parseApiKey(text).ok) throw new SettingsError(`the API key file ${file} (--api-key-file) must hold one key on one line`, 'apiKey', 'flag');
  return text;
}

function flagText(flags: LoadSettingsOptions['flags'] & object, name: string): string | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  return typeof value === 'boolean' ? String(value) : value;
}

/** An empty variable counts as unset: `FOO= filehaul …` is how shells clear one for a single command. */
function envText(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}
