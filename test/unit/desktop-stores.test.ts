// Settings and key persistence in userData, with a FAKE safeStorage (Electron cannot run here), and the options built from them.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desktopOptions, savedFlags, wantsDemo } from '../../src/main/desktop/desktop-options.ts';
import { redactSecrets } from '../../src/main/desktop/redact.ts';
import { API_KEY_FILE, createSecretStore } from '../../src/main/desktop/secret-store.ts';
import { SETTINGS_FILE, createSettingsStore } from '../../src/main/desktop/settings-store.ts';
import { FakeSafeStorage } from './desktop-fakes.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'filehaul-stores-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('settings store', () => {
  it('merges saved patches, never keeps the key, and reads them back', async () => {
    const store = createSettingsStore(dir);
    expect(store.load()).toEqual({});
    await store.save({ connections: 4, apiKey: 'sk-ant-never-here' });
    await store.save({ limitRate: 2_000_000, backupApiBase: null });
    const text = await readFile(path.join(dir, SETTINGS_FILE), 'utf8');
    expect(text).not.toContain('sk-ant');
    expect(createSettingsStore(dir).load()).toEqual({ connections: 4, limitRate: 2_000_000, backupApiBase: null });
  });

  it('ignores a damaged or tampered file, saying why', async () => {
    const warnings: string[] = [];
    await writeFile(path.join(dir, SETTINGS_FILE), JSON.stringify({ connections: 5000 }));
    expect(createSettingsStore(dir, (line) => warnings.push(line)).load()).toEqual({});
    await writeFile(path.join(dir, SETTINGS_FILE), '{not json');
    expect(createSettingsStore(dir, (line) => warnings.push(line)).load()).toEqual({});
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/setSettings\.connections must be a whole number/);
  });
});

describe('secret store', () => {
  it('round-trips through safeStorage and forgets a key that cannot be decrypted', async () => {
    const safeStorage = new FakeSafeStorage();
    const warnings: string[] = [];
    const store = createSecretStore(dir, safeStorage, { platform: 'linux', warn: (line) => warnings.push(line) });
    expect(await store.load()).toBeNull();
    await store.save('sk-ant-api03-abcdef');
    expect(await createSecretStore(dir, safeStorage).load()).toBe('sk-ant-api03-abcdef');
    await writeFile(path.join(dir, API_KEY_FILE), 'garbage from another machine');
    expect(await store.load()).toBeNull();
    expect(warnings.join('\n')).toMatch(/could not be decrypted/);
    expect(warnings.join('\n')).not.toContain('garbage');
  });

  it('refuses when no keychain is available at all', async () => {
    const safeStorage = new FakeSafeStorage();
    safeStorage.available = false;
    await expect(createSecretStore(dir, safeStorage, { platform: 'darwin' }).save('sk-ant-api03-abcdef')).rejects.toThrow(/No system keychain/);
  });
});

describe('desktop options', () => {
  const base = { userDataDir: '/u', defaultDataDir: '/home/me/Downloads/Filehaul', saved: {}, storedApiKey: null, warn: () => {} };

  it('recognises --demo anywhere after the executable', () => {
    expect(wantsDemo(['/usr/bin/electron', '.', '--demo'])).toBe(true);
    expect(wantsDemo(['/opt/Filehaul/filehaul', '--demo'])).toBe(true);
    expect(wantsDemo(['--demo'])).toBe(false);
    expect(wantsDemo(['/opt/Filehaul/filehaul', '--demonstrate'])).toBe(false);
  });

  it('uses the desktop data dir unless FILEHAUL_DIR names one, and takes the key from the environment when none is stored', () => {
    const fromDefault = desktopOptions({ ...base, argv: ['x'], env: { ANTHROPIC_API_KEY: 'sk-ant-env' } });
    expect(fromDefault).toMatchObject({ dataDir: '/home/me/Downloads/Filehaul', apiKey: 'sk-ant-env', demo: false });
    expect(desktopOptions({ ...base, argv: ['x'], env: { FILEHAUL_DIR: dir } }).dataDir).toBe(dir);
  });

  it('starts without saved settings the loader refuses, with a warning', () => {
    const warnings: string[] = [];
    const options = desktopOptions({ ...base, argv: ['x'], env: {}, saved: { apiBase: 'ftp://nope' }, warn: (line) => warnings.push(line) });
    expect(options.apiBase).toBe('https://api.anthropic.com');
    expect(warnings.join('\n')).toMatch(/saved from the window were not applied/);
  });

  it('maps every saved setting to its config flag', () => {
    expect(savedFlags({ apiBase: 'https://a.example', backupApiBase: null, connections: 8, parallelFiles: 2, requestsPerMinute: 50, limitRate: null, preset: 'cross-border', encrypt: true })).toEqual({
      'api-base': 'https://a.example', 'backup-api-base': 'none', connections: '8', 'parallel-files': '2', rpm: '50', 'limit-rate': '0', preset: 'cross-border', encrypt: true,
    });
  });
});

describe('redaction', () => {
  it('returns the same object when there is nothing to cut, a scrubbed copy otherwise', () => {
    const clean = { a: ['x', { b: 'y' }] };
    expect(redactSecrets(clean, ['sk-ant-secret'])).toBe(clean);
    expect(redactSecrets({ a: ['sk-ant-secret!', { b: 'key=sk-ant-secret' }] }, ['sk-ant-secret', null])).toEqual({ a: ['[redacted]!', { b: 'key=[redacted]' }] });
    // Too short to be a key: left alone rather than shredding ordinary text.
    expect(redactSecrets('a b c', ['a'])).toBe('a b c');
  });
});
