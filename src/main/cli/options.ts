// Command-line options shared by the commands: parsed, checked, and turned into service options with clear errors.
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_SERVICE_OPTIONS, type ServiceOptions } from '../service.ts';
import { parseByteSize } from './format.ts';

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {}

export const COMMON_OPTIONS = {
  dir: { type: 'string', default: './data' },
  'api-base': { type: 'string' },
  'api-key-file': { type: 'string' },
  connections: { type: 'string' },
  'parallel-files': { type: 'string' },
  'min-split': { type: 'string' },
  'max-retries': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'read-timeout': { type: 'string' },
  proxy: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export type CommonValues = {
  dir: string;
  'api-base'?: string;
  'api-key-file'?: string;
  connections?: string;
  'parallel-files'?: string;
  'min-split'?: string;
  'max-retries'?: string;
  'connect-timeout'?: string;
  'read-timeout'?: string;
  proxy?: string;
  json: boolean;
  help: boolean;
};

export function parseCommand(args: readonly string[]): { values: CommonValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: COMMON_OPTIONS, allowPositionals: true, strict: true });
    return { values: values as CommonValues, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** Settings from flags and environment. The key is read from ANTHROPIC_API_KEY or a key file and held only in memory. */
export function serviceOptions(values: CommonValues, env: NodeJS.ProcessEnv = process.env): ServiceOptions {
  const defaults = DEFAULT_SERVICE_OPTIONS;
  const engine = { ...defaults.engine, backoff: { ...defaults.engine.backoff } };
  engine.connections = integerOption(values.connections, 'connections', 1, 32) ?? engine.connections;
  engine.parallelFiles = integerOption(values['parallel-files'], 'parallel-files', 1, 64) ?? engine.parallelFiles;
  engine.backoff.maxRetries = integerOption(values['max-retries'], 'max-retries', 0, 100) ?? engine.backoff.maxRetries;
  if (values['min-split'] !== undefined) {
    const size = parseByteSize(values['min-split']);
    if (size === null || size < 4096) throw new UsageError(`--min-split must be a size of at least 4K (like 1M), got "${values['min-split']}"`);
    engine.minSplitBytes = size;
  }
  const connectSeconds = numberOption(values['connect-timeout'], 'connect-timeout', 0.1, 3600);
  const readSeconds = numberOption(values['read-timeout'], 'read-timeout', 0.1, 86_400);
  return {
    dataDir: values.dir,
    apiBase: values['api-base'] ?? env.ANTHROPIC_BASE_URL ?? defaults.apiBase,
    apiKey: readApiKey(values['api-key-file'], env),
    engine,
    connectTimeoutMs: connectSeconds !== null ? connectSeconds * 1000 : defaults.connectTimeoutMs,
    readTimeoutMs: readSeconds !== null ? readSeconds * 1000 : defaults.readTimeoutMs,
    proxy: proxyOption(values.proxy),
  };
}

function readApiKey(keyFile: string | undefined, env: NodeJS.ProcessEnv): string | null {
  if (keyFile === undefined) return env.ANTHROPIC_API_KEY?.trim() || null;
  let text: string;
  try {
    if (!statSync(keyFile).isFile()) throw new Error('not a regular file');
    text = readFileSync(keyFile, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read the API key file ${keyFile}: ${(error as Error).message}`);
  }
  const key = text.trim();
  if (!key || /\s/.test(key)) throw new UsageError(`The API key file ${keyFile} must hold one key on one line.`);
  return key;
}

function integerOption(text: string | undefined, name: string, min: number, max: number): number | null {
  if (text === undefined) return null;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

function numberOption(text: string | undefined, name: string, min: number, max: number): number | null {
  if (text === undefined) return null;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name} must be a number of seconds from ${min} to ${max}, got "${text}"`);
  return value;
}

function proxyOption(text: string | undefined): string | null {
  if (text === undefined) return null;
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // Reported below.
  }
  throw new UsageError(`--proxy must be an http:// or https:// URL, got "${text}"`);
}
