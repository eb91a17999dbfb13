// Tests for loadSettings: precedence of flags > env > config.ini > defaults, presets, errors, warnings and the chmod check.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadSettings, type LoadSettingsOptions } from '../../src/main/config/load-settings.ts';
import { DEFAULT_SETTINGS, SettingsError } from '../../src/main/config/settings.ts';

let root: string;
let dataDir: string;
let configPath: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-config-'));
  dataDir = path.join(root, 'data');
  configPath = path.join(dataDir, 'config.ini');
  await mkdir(dataDir);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeConfig(text: string, mode = 0o600, file = configPath): Promise<void> {
  await writeFile(file, text);
  await chmod(file, mode);
}

/** Loads with cwd = root so ./data is the temp data dir; no real environment leaks in. */
function load(options: LoadSettingsOptions = {}) {
  return loadSettings({ cwd: root, env: {}, platform: 'linux', ...options });
}

function errorOf(action: () => unknown): SettingsError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error('expected a SettingsError');
}

describe('defaults', () => {
  it('without flags, environment or config.ini gives the defaults, every one marked default', () => {
    const { settings, provenance, configPath: found, warnings } = load();
    expect(settings).toEqual({ ...DEFAULT_SETTINGS, dataDir });
    expect(settings).toMatchObject({ connections: 8, parallelFiles: 3, requestsPerMinute: 100, connectTimeoutMs: 30_000, readTimeoutMs: 600_000, maxRetries: 5, cooldownMs: 30_000, cooldownMaxMs: 600_000, cooldownAfter: 5, resendAfterMs: 250, limitRate: null, minSplitBytes: 1024 * 1024, encrypt: false, apiKey: null, backupApiBase: null, proxy: null });
    expect(new Set(Object.values(provenance))).toEqual(new Set(['default']));
    expect(Object.keys(provenance).sort()).toEqual(Object.keys(DEFAULT_SETTINGS).sort());
    expect(found).toBeNull();
    expect(warnings).toEqual([]);
  });
});

describe('precedence: flags > environment > config.ini > defaults', () => {
  const ini = '[network]\nconnections = 4\nrequests_per_minute = 50\nresend_after = 0\ncooldown = 10\ncooldown_after = 3\nlimit_rate = 500K\napi_base = https://ini.example\nbackup_api_base = https://backup-ini.example\n';

  it('config.ini beats defaults', async () => {
    await writeConfig(ini);
    const { settings, provenance, configPath: found } = load();
    expect(found).toBe(configPath);
    expect(settings).toMatchObject({ connections: 4, requestsPerMinute: 50, resendAfterMs: 0, cooldownMs: 10_000, cooldownAfter: 3, limitRate: 500 * 1024, apiBase: 'https://ini.example', backupApiBase: 'https://backup-ini.example' });
    expect(provenance).toMatchObject({ connections: 'config.ini', requestsPerMinute: 'config.ini', limitRate: 'config.ini', apiBase: 'config.ini', parallelFiles: 'default' });
  });

  it('the environment beats config.ini', async () => {
    await writeConfig(ini);
    const env = { FILEHAUL_CONNECTIONS: '6', FILEHAUL_RPM: '60', FILEHAUL_LIMIT_RATE: '5M', ANTHROPIC_BASE_URL: 'https://env.example', FILEHAUL_BACKUP_API_BASE: 'none' };
    const { settings, provenance } = load({ env });
    expect(settings).toMatchObject({ connections: 6, requestsPerMinute: 60, limitRate: 5 * 1024 * 1024, apiBase: 'https://env.example', backupApiBase: null });
    expect(provenance).toMatchObject({ connections: 'env', requestsPerMinute: 'env', limitRate: 'env', apiBase: 'env', backupApiBase: 'env' });
  });

  it('flags beat the environment', async () => {
    await writeConfig(ini);
    const env = { FILEHAUL_CONNECTIONS: '6', FILEHAUL_RPM: '60', FILEHAUL_LIMIT_RATE: '5M', ANTHROPIC_BASE_URL: 'https://env.example' };
    const flags = { connections: '16', rpm: '1000', 'limit-rate': '0', 'api-base': 'http://127.0.0.1:9999' };
    const { settings, provenance, origins } = load({ env, flags });
    expect(settings).toMatchObject({ connections: 16, requestsPerMinute: 1000, limitRate: null, apiBase: 'http://127.0.0.1:9999' });
    expect(provenance).toMatchObject({ connections: 'flag', requestsPerMinute: 'flag', limitRate: 'flag', apiBase: 'flag', backupApiBase: 'config.ini' });
    expect(origins.connections).toBe('flag --connections');
  });

  it('an empty environment variable counts as unset', async () => {
    await writeConfig(ini);
    expect(load({ env: { FILEHAUL_CONNECTIONS: '' } }).provenance.connections).toBe('config.ini');
  });

  it('the API key: --api-key-file > ANTHROPIC_API_KEY > [auth] api_key', async () => {
    await writeConfig('[auth]\napi_key = key-from-ini-0000\n');
    expect(load()).toMatchObject({ settings: { apiKey: 'key-from-ini-0000' }, provenance: { apiKey: 'config.ini' } });
    const env = { ANTHROPIC_API_KEY: 'key-from-env-0000' };
    expect(load({ env })).toMatchObject({ settings: { apiKey: 'key-from-env-0000' }, provenance: { apiKey: 'env' } });
    const keyFile = path.join(root, 'key.txt');
    await writeFile(keyFile, 'key-from-file-0000\n');
    expect(load({ env, flags: { 'api-key-file': keyFile } })).toMatchObject({ settings: { apiKey: 'key-from-file-0000' }, provenance: { apiKey: 'flag' } });
  });

  it('the data dir: --dir > FILEHAUL_DIR > base_dir > ./data, and config.ini is looked up in the flag/env dir', async () => {
    const other = path.join(root, 'other');
    await mkdir(other);
    await writeConfig('[storage]\nbase_dir = ./archive\nencrypt = yes\n');
    expect(load()).toMatchObject({ settings: { dataDir: path.join(root, 'archive'), encrypt: true }, provenance: { dataDir: 'config.ini' } });
    // FILEHAUL_DIR points elsewhere: that dir has no config.ini, so the one in ./data is not read at all.
    const fromEnv = load({ env: { FILEHAUL_DIR: other } });
    expect(fromEnv).toMatchObject({ settings: { dataDir: other, encrypt: false }, provenance: { dataDir: 'env' }, configPath: null });
    // --dir names the dir holding config.ini: its base_dir loses to the flag itself.
    expect(load({ env: { FILEHAUL_DIR: other }, flags: { dir: 'data' } })).toMatchObject({ settings: { dataDir, encrypt: true }, provenance: { dataDir: 'flag', encrypt: 'config.ini' }, configPath });
  });

  it('--config PATH reads that file instead, and must exist', async () => {
    const elsewhere = path.join(root, 'elsewhere.ini');
    await writeConfig('[network]\nparallel_files = 7\n', 0o600, elsewhere);
    await writeConfig('[network]\nparallel_files = 2\n');
    expect(load({ flags: { config: 'elsewhere.ini' } })).toMatchObject({ settings: { parallelFiles: 7 }, configPath: elsewhere });
    expect(load({ configPath: elsewhere }).settings.parallelFiles).toBe(7);
    expect(errorOf(() => load({ flags: { config: 'missing.ini' } })).message).toBe(`config file ${path.join(root, 'missing.ini')} does not exist (given with --config)`);
  });

  it('booleans from flags: --encrypt and --no-encrypt override config.ini', async () => {
    await writeConfig('[storage]\nencrypt = 1\n');
    expect(load({ flags: { encrypt: false } })).toMatchObject({ settings: { encrypt: false }, provenance: { encrypt: 'flag' } });
    await writeConfig('[storage]\nencrypt = no\n');
    expect(load({ flags: { encrypt: true } }).settings.encrypt).toBe(true);
  });

  it('ignores flags that are not settings (json, help)', () => {
    expect(load({ flags: { json: true, help: false } }).settings.connections).toBe(8);
  });
});

describe('presets and timeouts', () => {
  it.each([
    ['lan', 10_000, 300_000],
    ['cloud', 30_000, 600_000],
    ['cross-border', 60_000, 900_000],
  ])('preset %s gives %d ms / %d ms', (preset, connect, read) => {
    const { settings, provenance, origins } = load({ flags: { preset } });
    expect(settings).toMatchObject({ preset, connectTimeoutMs: connect, readTimeoutMs: read });
    expect(provenance).toMatchObject({ preset: 'flag', connectTimeoutMs: 'flag', readTimeoutMs: 'flag' });
    expect(origins.readTimeoutMs).toBe(`preset ${preset} (flag --preset)`);
  });

  it('connect_timeout / read_timeout in seconds override the preset written beside them', async () => {
    await writeConfig('[network]\npreset = lan\nread_timeout = 120\n');
    const { settings, provenance } = load();
    expect(settings).toMatchObject({ preset: 'lan', connectTimeoutMs: 10_000, readTimeoutMs: 120_000 });
    expect(provenance).toMatchObject({ connectTimeoutMs: 'config.ini', readTimeoutMs: 'config.ini' });
  });

  it('a timeout flag overrides a preset from anywhere; a preset flag overrides timeouts from config.ini', async () => {
    await writeConfig('[network]\nconnect_timeout = 45\n');
    expect(load({ env: { FILEHAUL_PRESET: 'lan' }, flags: { 'connect-timeout': '2.5' } }).settings).toMatchObject({ connectTimeoutMs: 2500, readTimeoutMs: 300_000 });
    expect(load({ flags: { preset: 'cross-border' } }).settings).toMatchObject({ connectTimeoutMs: 60_000, readTimeoutMs: 900_000 });
    expect(load({ env: { FILEHAUL_PRESET: 'lan' } }).settings).toMatchObject({ connectTimeoutMs: 10_000 });
    expect(load().settings).toMatchObject({ preset: 'cloud', connectTimeoutMs: 45_000, readTimeoutMs: 600_000 });
  });
});

describe('invalid values name the key, where it was set, and what is allowed', () => {
  const ini = (section: string, line: string) => writeConfig(`[${section}]\n${line}\n`);

  it.each([
    ['network', 'connections = 99', 'connections = 99 in CONFIG [network]: must be a whole number from 1 to 32'],
    ['network', 'connections = 2.5', 'connections = 2.5 in CONFIG [network]: must be a whole number from 1 to 32'],
    ['network', 'parallel_files = 0', 'parallel_files = 0 in CONFIG [network]: must be a whole number from 1 to 64'],
    ['network', 'requests_per_minute = lots', 'requests_per_minute = lots in CONFIG [network]: must be a whole number from 1 to 100000'],
    ['network', 'max_retries = -1', 'max_retries = -1 in CONFIG [network]: must be a whole number from 0 to 100'],
    ['network', 'cooldown = 0', 'cooldown = 0 in CONFIG [network]: must be a number of seconds from 1 to 3600'],
    ['network', 'cooldown_after = 0', 'cooldown_after = 0 in CONFIG [network]: must be a whole number from 1 to 100'],
    ['network', 'resend_after = 61', 'resend_after = 61 in CONFIG [network]: must be a number of seconds from 0 to 60'],
    ['network', 'connect_timeout = 0', 'connect_timeout = 0 in CONFIG [network]: must be a number of seconds from 0.1 to 3600'],
    ['network', 'read_timeout = 10m', 'read_timeout = 10m in CONFIG [network]: must be a number of seconds from 0.1 to 86400'],
    ['network', 'preset = moon', 'preset = moon in CONFIG [network]: must be one of lan, cloud, cross-border'],
    ['network', 'api_base = ftp://x', 'api_base = ftp://x in CONFIG [network]: must be an http:// or https:// URL'],
    ['network', 'backup_api_base = nope', 'backup_api_base = nope in CONFIG [network]: must be an http:// or https:// URL, or none'],
    ['network', 'limit_rate = 5', 'limit_rate = 5 in CONFIG [network]: must be bytes per second of at least 1K (like 500K, 5M or 1048576), or 0 for unlimited'],
    ['network', 'proxy = socks5://p:1080', 'proxy = socks5://p:1080 in CONFIG [network]: must be an http:// or https:// proxy URL (like http://proxy.local:3128), or none'],
    ['storage', 'min_split_size = 1K', 'min_split_size = 1K in CONFIG [storage]: must be a size of at least 4K (like 1M, 512K or 1048576)'],
    ['storage', 'encrypt = maybe', 'encrypt = maybe in CONFIG [storage]: must be true or false (also yes/no, 1/0, on/off)'],
    ['storage', 'base_dir = ""', 'base_dir = "" in CONFIG [storage]: must not be empty'],
  ])('[%s] %s', async (section, line, expected) => {
    await ini(section, line);
    const error = errorOf(() => load());
    expect(error.message).toBe(expected.replace('CONFIG', configPath));
    expect(error.source).toBe('config.ini');
  });

  it('from the environment and from flags', () => {
    expect(errorOf(() => load({ env: { FILEHAUL_CONNECTIONS: '0' } })).message).toBe('FILEHAUL_CONNECTIONS=0 in the environment: must be a whole number from 1 to 32');
    expect(errorOf(() => load({ flags: { 'limit-rate': 'fast' } })).message).toBe('--limit-rate fast on the command line: must be bytes per second of at least 1K (like 500K, 5M or 1048576), or 0 for unlimited');
    expect(errorOf(() => load({ flags: { connections: '33' } }))).toMatchObject({ setting: 'connections', source: 'flag' });
  });

  it('only the winning value is checked: a flag may stand in for a broken config.ini value', async () => {
    await ini('network', 'connections = 4');
    expect(() => load({ flags: { connections: 'x' } })).toThrow(/--connections x/);
    await ini('network', 'connections = 99');
    expect(load({ flags: { connections: '2' } }).settings.connections).toBe(2);
  });

  it('never echoes a key or a proxy password', async () => {
    await ini('auth', 'api_key = "two words-secret"');
    const error = errorOf(() => load());
    expect(error.message).toBe(`api_key in ${configPath} [auth]: must be one key without spaces`);
    expect(errorOf(() => load({ env: { ANTHROPIC_API_KEY: 'sk secret' } })).message).not.toContain('secret');
    const proxyError = errorOf(() => load({ flags: { proxy: 'ftp://user:hunter2@p' } }));
    expect(proxyError.message).not.toContain('hunter2');
  });

  it('an unreadable or multi-line key file is an error that does not show the file', async () => {
    const keyFile = path.join(root, 'key.txt');
    await writeFile(keyFile, 'secret-one\nsecret-two\n');
    const error = errorOf(() => load({ flags: { 'api-key-file': keyFile } }));
    expect(error.message).toContain('must hold one key on one line');
    expect(error.message).not.toContain('secret');
    expect(errorOf(() => load({ flags: { 'api-key-file': path.join(root, 'none.txt') } })).message).toContain('no such file');
  });

  it('a malformed line is an error with its line number', async () => {
    await writeConfig('[network]\nconnections = 4\nthis is not ini\n');
    expect(errorOf(() => load()).message).toBe(`config file ${configPath} line 3: expected "key = value", a [section] or a comment`);
  });
});

describe('warnings', () => {
  it('unknown keys and sections are ignored with a warning', async () => {
    await writeConfig('[network]\nfoo = 1\nconnections = 4\n[colors]\nred = 1\n');
    const { warnings, settings } = load();
    expect(settings.connections).toBe(4);
    expect(warnings).toEqual([`unknown key foo in [network] of ${configPath} (ignored)`, `unknown section [colors] in ${configPath} (ignored)`]);
  });

  it('a duplicate key warns and the last one counts', async () => {
    await writeConfig('[network]\nconnections = 4\nconnections = 5\n');
    const { warnings, settings } = load();
    expect(settings.connections).toBe(5);
    expect(warnings).toEqual([`connections appears twice in [network] of ${configPath} (lines 2 and 3): the last one counts`]);
  });

  it('a config.ini holding api_key readable by group or others warns to chmod 600', async () => {
    await writeConfig('[auth]\napi_key = sk-test-0000000000\n', 0o644);
    expect(load().warnings).toEqual([`${configPath} holds an api_key and other users may read it (mode 644): run chmod 600 ${configPath}`]);
    await chmod(configPath, 0o640);
    expect(load().warnings).toHaveLength(1);
    await chmod(configPath, 0o600);
    expect(load().warnings).toEqual([]);
  });

  it('no chmod warning without a key, nor on Windows', async () => {
    await writeConfig('[network]\nconnections = 4\n', 0o644);
    expect(load().warnings).toEqual([]);
    await writeConfig('[auth]\napi_key = sk-test-0000000000\n', 0o644);
    expect(load({ platform: 'win32' }).warnings).toEqual([]);
  });
});

describe("the source article's config.ini", () => {
  const article = '[auth]\napi_key = sk_prod_xxxxxxxxxxxx\n[network]\ntimeout = 30\nmax_retries = 5\n[storage]\nbase_dir = ./data\nchunk_size = 104857600 # 100MB\n';

  it('parses: its single timeout becomes both timeouts, chunk_size becomes min_split_size, each with a warning', async () => {
    await writeConfig(article);
    const { settings, provenance, warnings } = load();
    expect(settings).toMatchObject({ apiKey: 'sk_prod_xxxxxxxxxxxx', connectTimeoutMs: 30_000, readTimeoutMs: 30_000, maxRetries: 5, dataDir, minSplitBytes: 104_857_600 });
    expect(provenance).toMatchObject({ apiKey: 'config.ini', connectTimeoutMs: 'config.ini', readTimeoutMs: 'config.ini', maxRetries: 'config.ini', dataDir: 'config.ini', minSplitBytes: 'config.ini' });
    expect(warnings).toEqual([
      `timeout in [network] of ${configPath} is deprecated: read as connect_timeout and read_timeout; write connect_timeout and read_timeout (or preset) instead`,
      `chunk_size in [storage] of ${configPath} is deprecated: read as min_split_size (the smallest range worth its own request); rename it`,
    ]);
  });

  it('the new names win over the old ones when both are written', async () => {
    await writeConfig('[network]\ntimeout = 30\nread_timeout = 900\n[storage]\nchunk_size = 100M\nmin_split_size = 2M\n');
    const { settings, warnings } = load();
    expect(settings).toMatchObject({ connectTimeoutMs: 30_000, readTimeoutMs: 900_000, minSplitBytes: 2 * 1024 * 1024 });
    expect(warnings[0]).toContain('read as connect_timeout;');
    expect(warnings[1]).toContain('chunk_size in [storage] of');
    expect(warnings[1]).toContain('ignored: min_split_size is set');
  });

  it('an invalid old key is reported under its own name', async () => {
    await writeConfig('[network]\ntimeout = soon\n');
    expect(errorOf(() => load()).message).toBe(`timeout = soon in ${configPath} [network]: must be a number of seconds from 0.1 to 3600`);
  });
});
