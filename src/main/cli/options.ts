// Command-line options shared by the commands: parsed, merged with environment and config.ini, turned into service options.
import { parseArgs } from 'node:util';
import { loadSettings, type LoadedSettings } from '../config/load-settings.ts';
import { SETTINGS_FLAG_OPTIONS } from '../config/setting-fields.ts';
import { DEFAULT_SERVICE_OPTIONS, type ServiceOptions } from '../service.ts';

import { UsageError } from './usage-error.ts';

export { UsageError };

export const COMMON_OPTIONS = {
  ...SETTINGS_FLAG_OPTIONS,
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Every settings flag is optional: unset flags leave the environment, config.ini and defaults to decide. */
export type CommonValues = { [Name in keyof typeof SETTINGS_FLAG_OPTIONS]?: (typeof SETTINGS_FLAG_OPTIONS)[Name]['type'] extends 'boolean' ? boolean : string } & {
  json: boolean;
  help: boolean;
};

export function parseCommand(args: readonly string[]): { values: CommonValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: COMMON_OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
    return { values: values as CommonValues, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** The effective settings (flags > environment > config.ini > defaults) with where each came from. */
export function commandSettings(values: CommonValues, env: NodeJS.ProcessEnv = process.env): LoadedSettings {
  const { json: _json, help: _help, ...flags } = values;
  return loadSettings({ flags, env });
}

/**
 * Service options from the effective settings. Warnings (unknown config keys, a key file others can read…) go to
 * `warn`, by default stderr, once per command.
 */
export function serviceOptions(values: CommonValues, env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = defaultWarn): ServiceOptions {
  const { settings, warnings } = commandSettings(values, env);
  for (const warning of warnings) warn(warning);
  const defaults = DEFAULT_SERVICE_OPTIONS;
  return {
    dataDir: settings.dataDir,
    apiBase: settings.apiBase,
    apiKey: settings.apiKey,
    engine: {
      ...defaults.engine,
      connections: settings.connections,
      parallelFiles: settings.parallelFiles,
      minSplitBytes: settings.minSplitBytes,
      hedgeAfterMs: settings.resendAfterMs,
      backoff: { ...defaults.engine.backoff, maxRetries: settings.maxRetries },
    },
    connectTimeoutMs: settings.connectTimeoutMs,
    readTimeoutMs: settings.readTimeoutMs,
    proxy: settings.proxy,
    backupApiBase: settings.backupApiBase,
    requestsPerMinute: settings.requestsPerMinute,
    cooldown: { initialMs: settings.cooldownMs, maxMs: Math.max(settings.cooldownMs, settings.cooldownMaxMs), openAfter: settings.cooldownAfter },
    limitRate: settings.limitRate,
    encrypt: settings.encrypt,
    preset: settings.preset,
  };
}

function defaultWarn(line: string): void {
  process.stderr.write(`filehaul: warning: ${line}\n`);
}
