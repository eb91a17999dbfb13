// `filehaul config`: prints the effective settings and where each came from; the API key only as set or not set.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSettings, type LoadedSettings } from '../config/load-settings.ts';
import { fieldFor, SETTINGS_FLAG_OPTIONS } from '../config/setting-fields.ts';
import type { SettingName, Settings } from '../config/settings.ts';
import { maskUrlPassword } from '../config/values.ts';
import type { Output } from './reporters.ts';
import { UsageError } from './options.ts';

export const CONFIG_HELP = `Usage: filehaul config [--dir DIR] [--config PATH] [--json] [setting flags]

Prints the settings Filehaul would run with and where each came from (flag, env, config.ini or default).
Precedence: flags > environment > config.ini > defaults. config.ini is read from --config PATH, else DIR/config.ini.
Any setting flag of filehaul get (--connections 16, --preset lan…) may be added to see its effect.
`;

/** Proxy variables the HTTP layer reads by itself; named (never shown: they may hold credentials) so nobody is surprised. */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];

export async function runConfig(
  args: readonly string[],
  io: { stdout: Output; stderr: Output },
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { ...SETTINGS_FLAG_OPTIONS, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowNegative: true,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (values.help) {
    io.stdout.write(CONFIG_HELP);
    return 0;
  }
  const loaded = loadSettings({ flags: values, env, cwd });
  const notes = PROXY_VARIABLES.filter((name) => env[name]).map((name) => `${name} is set in the environment: the HTTP layer honours it${name.toLowerCase() === 'no_proxy' ? '' : ' unless proxy is set here'}`);
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ configPath: loaded.configPath, settings: shownSettings(loaded.settings), provenance: loaded.provenance, origins: loaded.origins, warnings: loaded.warnings, notes })}\n`);
    return 0;
  }
  for (const warning of loaded.warnings) io.stderr.write(`filehaul: warning: ${warning}\n`);
  io.stdout.write(renderText(loaded, notes));
  return 0;
}

/** The settings as they may be shown: the key reduced to set/not set, a proxy password masked. */
function shownSettings(settings: Settings): Record<SettingName, unknown> {
  return { ...settings, apiKey: settings.apiKey === null ? 'not set' : 'set', proxy: settings.proxy === null ? null : maskUrlPassword(settings.proxy) };
}

function renderText(loaded: LoadedSettings, notes: string[]): string {
  const { settings, origins } = loaded;
  const lines = [`config file: ${loaded.configPath ?? `none (looked for ${path.join(settings.dataDir, 'config.ini')})`}`, ''];
  const rows: [string, string, string][] = [];
  for (const name of Object.keys(settings) as SettingName[]) {
    const key = fieldFor(name).key;
    if (name === 'apiKey') rows.push([key, settings.apiKey === null ? 'not set' : `set (from ${origins.apiKey})`, '']);
    else rows.push([key, formatValue(name, settings), origins[name]]);
  }
  const keyWidth = Math.max(...rows.map(([key]) => key.length)) + 2;
  const valueWidth = Math.max(...rows.map(([key, value]) => (key === 'api_key' ? 0 : value.length))) + 2;
  lines.push(`${'setting'.padEnd(keyWidth)}${'value'.padEnd(valueWidth)}from`);
  for (const [key, value, origin] of rows) lines.push(origin ? `${key.padEnd(keyWidth)}${value.padEnd(valueWidth)}${origin}` : `${key.padEnd(keyWidth)}${value}`);
  if (notes.length > 0) lines.push('', ...notes.map((note) => `note: ${note}`));
  return `${lines.join('\n')}\n`;
}

function formatValue(name: SettingName, settings: Settings): string {
  switch (name) {
    case 'connectTimeoutMs':
    case 'readTimeoutMs':
      return `${settings[name] / 1000} s`;
    case 'limitRate':
      return settings.limitRate === null ? 'unlimited' : `${bytes(settings.limitRate)}/s`;
    case 'minSplitBytes':
      return bytes(settings.minSplitBytes);
    case 'encrypt':
      return settings.encrypt ? 'yes' : 'no';
    case 'proxy':
      return settings.proxy === null ? 'none' : maskUrlPassword(settings.proxy);
    case 'backupApiBase':
      return settings.backupApiBase ?? 'none';
    default:
      return String(settings[name]);
  }
}

/** Sizes as the user may write them back into config.ini: 1M, 512K, or plain bytes. */
function bytes(count: number): string {
  for (const [unit, size] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (count >= size && count % size === 0) return `${count / size}${unit}`;
  }
  return String(count);
}
