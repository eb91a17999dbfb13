// Tests for encryption-keys.ts: the 0600 key file, refusing one others can read, and never replacing an existing key.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkedIdentity, defaultKeyFilePath, generateIdentity, loadOrCreateIdentity, readIdentityFile, recipientOf } from '../../src/main/archive/encryption-keys.ts';

const posixOnly = process.platform === 'win32' ? ' (skipped: Windows has no POSIX mode bits)' : '';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-keys-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('generateIdentity / recipientOf', () => {
  it('makes X25519 identities whose recipients are stable', async () => {
    const identity = await generateIdentity();
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    const recipient = await recipientOf(identity);
    expect(recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(await recipientOf(` ${identity}\n`)).toBe(recipient);
    expect(await generateIdentity()).not.toBe(identity);
  });

  it('refuses malformed identities without quoting them', async () => {
    const identity = await generateIdentity();
    for (const bad of ['', 'age1abc', identity.slice(0, -2), identity.replace('1', '2'), identity.toLowerCase().replace('age-secret-key-1', 'AGE-SECRET-KEY-1')]) {
      const error = await failure(recipientOf(bad));
      expect(error.message).toBe('Not a valid age X25519 identity (expected AGE-SECRET-KEY-1…)');
      expect(error.cause).toBeUndefined();
      await expect(checkedIdentity(bad)).rejects.toThrow(/Not a valid age X25519 identity/);
    }
  });
});

describe('loadOrCreateIdentity', () => {
  it(`creates a 0600 key file in age-keygen's format, then reads the same identity back${posixOnly}`, async () => {
    const keyFile = path.join(root, 'keys', 'identity.txt');
    const first = await loadOrCreateIdentity(keyFile);
    expect(first.created).toBe(true);
    expect(first.recipient).toBe(await recipientOf(first.identity));
    if (!posixOnly) expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const text = await readFile(keyFile, 'utf8');
    expect(text).toMatch(new RegExp(`^# created: \\d{4}-.*\\n# public key: ${first.recipient}\\n${first.identity}\\n$`));

    const again = await loadOrCreateIdentity(keyFile);
    expect(again).toEqual({ ...first, created: false });
    // The temporary file is gone; only the key file is left.
    expect(await readdir(path.dirname(keyFile))).toEqual(['identity.txt']);
  });

  it('gives every concurrent caller the same identity: one key file wins, none is replaced', async () => {
    const keyFile = path.join(root, 'identity.txt');
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(keyFile)));
    const identities = new Set(results.map((r) => r.identity));
    expect(identities.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await readIdentityFile(keyFile)).identity).toBe(results[0].identity);
    expect(await readdir(root)).toEqual(['identity.txt']);
  });

  it.skipIf(posixOnly)(`refuses a key file that others can read, telling how to fix it${posixOnly}`, async () => {
    const keyFile = path.join(root, 'identity.txt');
    const { identity } = await loadOrCreateIdentity(keyFile);
    await chmod(keyFile, 0o644);
    const error = await failure(loadOrCreateIdentity(keyFile));
    expect(error.message).toBe(`The key file ${keyFile} can be read or changed by other users (mode 644); run: chmod 600 '${keyFile}'`);
    expect(error.message).not.toContain(identity);
    await chmod(keyFile, 0o640);
    await expect(readIdentityFile(keyFile)).rejects.toThrow(/chmod 600/);
    // It is not replaced by a new key either: after the chmod the same identity comes back.
    await chmod(keyFile, 0o600);
    expect((await loadOrCreateIdentity(keyFile)).identity).toBe(identity);
  });

  it('reads a hand-made key file with comments and CRLF line ends', async () => {
    const identity = await generateIdentity();
    const keyFile = path.join(root, 'identity.txt');
    await writeFile(keyFile, `# my key\r\n\r\n${identity}\r\n`, { mode: 0o600 });
    expect(await readIdentityFile(keyFile)).toEqual({ identity, recipient: await recipientOf(identity) });
  });

  it('rejects key files with no, several or invalid identities without quoting their lines', async () => {
    const a = await generateIdentity();
    const b = await generateIdentity();
    const keyFile = path.join(root, 'identity.txt');
    const cases: Array<[string, RegExp]> = [
      ['# nothing here\n', /exactly one age identity.*found 0/],
      [`${a}\n${b}\n`, /exactly one age identity.*found 2/],
      [`${a.slice(0, -1)}\n`, /does not hold a valid age X25519 identity/],
    ];
    for (const [text, expected] of cases) {
      await writeFile(keyFile, text, { mode: 0o600 });
      const error = await failure(readIdentityFile(keyFile));
      expect(error.message).toMatch(expected);
      expect(error.message).not.toContain(a.slice(16));
      expect(error.message).not.toContain(b.slice(16));
      // A broken key file is reported, never silently replaced with a new identity.
      await expect(loadOrCreateIdentity(keyFile)).rejects.toThrow(expected);
      expect(await readFile(keyFile, 'utf8')).toBe(text);
    }
  });

  it('reports a missing key file with code ENOENT to readers', async () => {
    await expect(readIdentityFile(path.join(root, 'none.txt'))).rejects.toMatchObject({ code: 'ENOENT', message: `No key file at ${path.join(root, 'none.txt')}` });
  });

  it('puts the default key file at the top of the data directory', () => {
    expect(defaultKeyFilePath(path.join(root, 'data'))).toBe(path.join(root, 'data', 'filehaul-identity.txt'));
  });
});

/** The error a promise rejects with; fails the test if it resolves instead. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
