// Tests for `filehaul config`: effective settings with their provenance, and a planted key never in the output.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runConfig } from '../../src/main/cli/config-command.ts';
import { UsageError } from '../../src/main/cli/options.ts';

const PLANTED_KEY = 'sk-ant-api03-PLANTED-config-command-key-000000';

let root: string;
let dataDir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-config-command-'));
  dataDir = path.join(root, 'data');
  await mkdir(dataDir);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (text: string) => void (stdout += text), isTTY: false }, stderr: { write: (text: string) => void (stderr += text), isTTY: false } };
  const code = await runConfig(args, io, env, root);
  return { code, stdout, stderr };
}

describe('filehaul config', () => {
  it('shows every setting with where it came from, the key only as set', async () => {
    await writeFile(path.join(dataDir, 'config.ini'), `[auth]\napi_key = ${PLANTED_KEY}\n[network]\nconnections = 4\nmax_retries = 7\n`);
    await chmod(path.join(dataDir, 'config.ini'), 0o600);
    const { code, stdout, stderr } = await run(['--connections', '16', '--preset', 'lan'], { ANTHROPIC_API_KEY: PLANTED_KEY, FILEHAUL_RPM: '60' });
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(`config file: ${path.join(dataDir, 'config.ini')}`);
    expect(stdout).toMatch(/^api_key +set \(from env ANTHROPIC_API_KEY\)$/m);
    expect(stdout).toMatch(/^connections +16 +flag --connections$/m);
    expect(stdout).toMatch(/^requests_per_minute +60 +env FILEHAUL_RPM$/m);
    expect(stdout).toMatch(/^max_retries +7 +config\.ini \[network\] max_retries, line 5$/m);
    expect(stdout).toMatch(/^parallel_files +3 +default$/m);
    expect(stdout).toMatch(/^connect_timeout +10 s +preset lan \(flag --preset\)$/m);
    expect(stdout).toMatch(/^min_split_size +1M +default$/m);
    expect(stdout).not.toContain(PLANTED_KEY);
  });

  it('says "not set" without a key and names no config file when there is none', async () => {
    const { stdout } = await run([]);
    expect(stdout).toMatch(/^api_key +not set$/m);
    expect(stdout).toContain(`config file: none (looked for ${path.join(dataDir, 'config.ini')})`);
  });

  it('--json gives settings, provenance and warnings, the key as "set" only', async () => {
    const ini = path.join(root, 'my.ini');
    await writeFile(ini, `[auth]\napi_key = ${PLANTED_KEY}\n[network]\nproxy = http://user:hunter2@proxy.local:3128\nwhat = 1\n`);
    await chmod(ini, 0o644);
    const { stdout, stderr } = await run(['--config', ini, '--json', '--no-encrypt']);
    expect(stderr).toBe('');
    const report = JSON.parse(stdout);
    expect(report.configPath).toBe(ini);
    expect(report.settings.apiKey).toBe('set');
    expect(report.settings.proxy).toBe('http://user:***@proxy.local:3128/');
    expect(report.provenance).toMatchObject({ apiKey: 'config.ini', proxy: 'config.ini', encrypt: 'flag', connections: 'default' });
    expect(report.warnings).toEqual([`unknown key what in [network] of ${ini} (ignored)`, `${ini} holds an api_key and other users may read it (mode 644): run chmod 600 ${ini}`]);
    expect(stdout).not.toContain(PLANTED_KEY);
    expect(stdout).not.toContain('hunter2');
  });

  it('prints warnings on stderr and notes proxy variables without their values', async () => {
    await writeFile(path.join(dataDir, 'config.ini'), '[network]\nspeed = 3\n');
    const { stdout, stderr } = await run([], { HTTPS_PROXY: 'http://u:secretpass@proxy:3128' });
    expect(stderr).toBe(`filehaul: warning: unknown key speed in [network] of ${path.join(dataDir, 'config.ini')} (ignored)\n`);
    expect(stdout).toContain('note: HTTPS_PROXY is set in the environment');
    expect(stdout).not.toContain('secretpass');
  });

  it('an invalid value fails with the key, its source and what is allowed; an unknown flag is a usage error', async () => {
    await expect(run(['--connections', '99'])).rejects.toThrow('--connections 99 on the command line: must be a whole number from 1 to 32');
    await expect(run(['--bogus'])).rejects.toBeInstanceOf(UsageError);
  });
});
