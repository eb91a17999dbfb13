// Where each setting may be written — config.ini section/key, environment variable, command-line flag — and how its text is read.
import { isPresetName, PRESETS, type PresetName } from './presets.ts';
import type { SettingName, Settings } from './settings.ts';
import * as values from './values.ts';

export type IniSection = 'auth' | 'network' | 'storage';

export interface SettingField<K extends SettingName = SettingName> {
  setting: K;
  section: IniSection;
  /** The config.ini key (snake_case, as in the issue and the article). */
  key: string;
  env?: string;
  /** The flag's name without dashes, as node:util parseArgs reports it. */
  flag?: string;
  parse: (text: string) => values.Parsed<Settings[K]>;
  /** How the value may be shown in messages and `filehaul config`: 'never' for the key, 'masked' hides a URL password. */
  show?: 'never' | 'masked';
}

const preset = (text: string): values.Parsed<PresetName> => {
  const trimmed = text.trim().toLowerCase();
  return isPresetName(trimmed) ? { ok: true, value: trimmed } : { ok: false, allowed: `be one of ${Object.keys(PRESETS).join(', ')}` };
};

/**
 * Every setting's sources. The key has no flag on purpose: a key on the command line lands in shell history and
 * process listings; `--api-key-file PATH` (handled by the loader) is the command-line way.
 */
export const SETTING_FIELDS: readonly SettingField[] = [
  { setting: 'apiKey', section: 'auth', key: 'api_key', env: 'ANTHROPIC_API_KEY', parse: values.apiKey, show: 'never' },
  { setting: 'apiBase', section: 'network', key: 'api_base', env: 'ANTHROPIC_BASE_URL', flag: 'api-base', parse: values.httpUrl },
  { setting: 'backupApiBase', section: 'network', key: 'backup_api_base', env: 'FILEHAUL_BACKUP_API_BASE', flag: 'backup-api-base', parse: values.optionalHttpUrl },
  { setting: 'connections', section: 'network', key: 'connections', env: 'FILEHAUL_CONNECTIONS', flag: 'connections', parse: values.wholeNumber(1, 32) },
  { setting: 'parallelFiles', section: 'network', key: 'parallel_files', flag: 'parallel-files', parse: values.wholeNumber(1, 64) },
  { setting: 'requestsPerMinute', section: 'network', key: 'requests_per_minute', env: 'FILEHAUL_RPM', flag: 'rpm', parse: values.wholeNumber(1, 100_000) },
  { setting: 'preset', section: 'network', key: 'preset', env: 'FILEHAUL_PRESET', flag: 'preset', parse: preset },
  { setting: 'connectTimeoutMs', section: 'network', key: 'connect_timeout', flag: 'connect-timeout', parse: values.seconds(0.1, 3600) },
  { setting: 'readTimeoutMs', section: 'network', key: 'read_timeout', flag: 'read-timeout', parse: values.seconds(0.1, 86_400) },
  { setting: 'maxRetries', section: 'network', key: 'max_retries', flag: 'max-retries', parse: values.wholeNumber(0, 100) },
  { setting: 'cooldownMs', section: 'network', key: 'cooldown', flag: 'cooldown', parse: values.seconds(1, 3600) },
  { setting: 'cooldownMaxMs', section: 'network', key: 'cooldown_max', flag: 'cooldown-max', parse: values.seconds(1, 86_400) },
  { setting: 'cooldownAfter', section: 'network', key: 'cooldown_after', flag: 'cooldown-after', parse: values.wholeNumber(1, 100) },
  { setting: 'resendAfterMs', section: 'network', key: 'resend_after', flag: 'resend-after', parse: values.seconds(0, 60) },
  { setting: 'limitRate', section: 'network', key: 'limit_rate', env: 'FILEHAUL_LIMIT_RATE', flag: 'limit-rate', parse: values.rate },
  { setting: 'proxy', section: 'network', key: 'proxy', flag: 'proxy', parse: values.proxyUrl, show: 'masked' },
  { setting: 'dataDir', section: 'storage', key: 'base_dir', env: 'FILEHAUL_DIR', flag: 'dir', parse: values.plainText },
  { setting: 'minSplitBytes', section: 'storage', key: 'min_split_size', flag: 'min-split', parse: values.sizeAtLeast(4096, '4K') },
  { setting: 'encrypt', section: 'storage', key: 'encrypt', flag: 'encrypt', parse: values.boolean },
];

/** Keys the article's config.ini uses that Filehaul reads under another name (see config-file.ts). */
export const LEGACY_KEYS = { network: ['timeout'], storage: ['chunk_size'] } as const;

/**
 * node:util parseArgs options for every settings flag, so each command accepts the same ones. No defaults here:
 * a default would make every flag look "set on the command line" and hide the environment and config.ini.
 */
export const SETTINGS_FLAG_OPTIONS = {
  config: { type: 'string' },
  dir: { type: 'string' },
  'api-key-file': { type: 'string' },
  'api-base': { type: 'string' },
  'backup-api-base': { type: 'string' },
  connections: { type: 'string' },
  'parallel-files': { type: 'string' },
  rpm: { type: 'string' },
  preset: { type: 'string' },
  'connect-timeout': { type: 'string' },
  'read-timeout': { type: 'string' },
  'max-retries': { type: 'string' },
  'resend-after': { type: 'string' },
  cooldown: { type: 'string' },
  'cooldown-max': { type: 'string' },
  'cooldown-after': { type: 'string' },
  'limit-rate': { type: 'string' },
  proxy: { type: 'string' },
  'min-split': { type: 'string' },
  encrypt: { type: 'boolean' },
} as const;

export function fieldFor<K extends SettingName>(setting: K): SettingField<K> {
  return SETTING_FIELDS.find((field) => field.setting === setting) as unknown as SettingField<K>;
}
