// Tests for `filehaul decrypt`: files or a month into --out, never overwriting, never reading outside raw/.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encryptFile } from '../../src/main/archive/encryption.ts';
import { loadOrCreateIdentity } from '../../src/main/archive/encryption-keys.ts';
import { runDecrypt } from '../../src/main/cli/decrypt-command.ts';
import type { CommandIo } from '../../src/main/cli/get.ts';
import { UsageError } from '../../src/main/cli/options.ts';

let root: string;
let dataDir: string;
let monthDir: string;
let outDir: string;
let recipient: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-decrypt-cmd-'));
  dataDir = path.join(root, 'data');
  monthDir = path.join(dataDir, 'raw', '2025-04');
  outDir = path.join(root, 'out');
  await mkdir(monthDir, { recursive: true });
  ({ recipient } = await loadOrCreateIdentity(path.join(dataDir, 'filehaul-identity.txt')));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

interface FakeIo extends CommandIo {
  out: string[];
  err: string[];
  interrupt?: () => void;
}

function fakeIo(onStdout?: (io: FakeIo) => void): FakeIo {
  const io: FakeIo = {
    out: [],
    err: [],
    stdout: { write: (text) => { io.out.push(text); onStdout?.(io); }, isTTY: false },
    stderr: { write: (text) => void io.err.push(text), isTTY: false },
    onInterrupt(handler) {
      io.interrupt = handler;
      return () => { io.interrupt = undefined; };
    },
  };
  return io;
}

/** Encrypts `content` into raw/2025-04/<name> as the archive would hold it. */
async function archived(name: string, content: string, dir = monthDir): Promise<string> {
  const plain = path.join(root, `plain-${name}`);
  await writeFile(plain, content);
  const file = path.join(dir, name);
  await encryptFile(plain, file, recipient);
  await rm(plain);
  return file;
}

async function contents(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) result[name] = await readFile(path.join(dir, name), 'utf8');
  return result;
}

describe('filehaul decrypt --month', () => {
  it('decrypts every .age file of the month into --out, stripping the suffix and never overwriting', async () => {
    await archived('report.pdf.age', 'report');
    await archived('notes.txt.age', 'new notes');
    await writeFile(path.join(monthDir, 'plain.txt'), 'not encrypted, not touched');
    await mkdir(outDir);
    await writeFile(path.join(outDir, 'notes.txt'), 'my own notes');

    const io = fakeIo();
    expect(await runDecrypt(['--month', '2025-04', '--out', outDir, '--dir', dataDir], io)).toBe(0);
    expect(await contents(outDir)).toEqual({ 'notes (2).txt': 'new notes', 'notes.txt': 'my own notes', 'report.pdf': 'report' });
    expect(io.out.join('')).toContain(`${path.join(monthDir, 'report.pdf.age')} -> ${path.join(outDir, 'report.pdf')}`);
    expect(io.err).toEqual([]);

    // Running it again makes further copies instead of replacing anything.
    expect(await runDecrypt(['--month', '2025-04', '--out', outDir, '--dir', dataDir], fakeIo())).toBe(0);
    expect(Object.keys(await contents(outDir))).toEqual(['notes (2).txt', 'notes (3).txt', 'notes.txt', 'report (2).pdf', 'report.pdf']);
  });

  it('says so when the month has no encrypted files', async () => {
    const io = fakeIo();
    expect(await runDecrypt(['--month', '2024-01', '--out', outDir, '--dir', dataDir], io)).toBe(0);
    expect(io.out.join('')).toMatch(/No encrypted files in .*2024-01/);
  });

  it('skips symbolic links and refuses a month folder that leads outside raw/', async () => {
    const outside = path.join(root, 'outside');
    await mkdir(outside);
    const secret = await archived('secret.age', 'outside the archive', outside);
    await symlink(secret, path.join(monthDir, 'link.age'));
    expect(await runDecrypt(['--month', '2025-04', '--out', outDir, '--dir', dataDir], fakeIo())).toBe(0);
    await expect(readdir(outDir)).rejects.toMatchObject({ code: 'ENOENT' });

    await symlink(outside, path.join(dataDir, 'raw', '2025-05'));
    await expect(runDecrypt(['--month', '2025-05', '--out', outDir, '--dir', dataDir], fakeIo())).rejects.toThrow(/resolves outside/);
  });

  it('refuses to write plaintext inside the archive', async () => {
    await archived('a.age', 'a');
    await expect(runDecrypt(['--month', '2025-04', '--out', path.join(dataDir, 'raw', 'plain'), '--dir', dataDir], fakeIo())).rejects.toThrow(UsageError);
  });
});

describe('filehaul decrypt <file>...', () => {
  it('decrypts the given files, reports a damaged one and still does the rest', async () => {
    const good = await archived('good.bin.age', 'good');
    const damaged = await archived('damaged.bin.age', 'x'.repeat(1000));
    const bytes = await readFile(damaged);
    bytes[bytes.length - 5] ^= 1;
    await writeFile(damaged, bytes);
    const other = path.join(root, 'other-name');
    await writeFile(other, await readFile(good));

    const io = fakeIo();
    expect(await runDecrypt([damaged, good, other, '--out', outDir, '--dir', dataDir], io)).toBe(1);
    expect(await contents(outDir)).toEqual({ 'good.bin': 'good', 'other-name': 'good' });
    expect(io.err.join('')).toMatch(new RegExp(`^filehaul: ${damaged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: Cannot decrypt .*damaged or truncated`));
  });

  it('stops at an interrupt between files and exits 130', async () => {
    const first = await archived('first.age', '1');
    const second = await archived('second.age', '2');
    const io = fakeIo((self) => self.interrupt?.());
    expect(await runDecrypt([first, second, '--out', outDir, '--dir', dataDir], io)).toBe(130);
    expect(await readdir(outDir)).toEqual(['first']);
    expect(io.err.join('')).toMatch(/interrupted/);
  });

  it('needs the key file the files were encrypted to', async () => {
    const file = await archived('a.age', 'a');
    await expect(runDecrypt([file, '--out', outDir, '--key-file', path.join(root, 'none.txt')], fakeIo())).rejects.toThrow(/No key file at .*none\.txt; pass the identity/);
    const other = path.join(root, 'other-key.txt');
    await loadOrCreateIdentity(other);
    const io = fakeIo();
    expect(await runDecrypt([file, '--out', outDir, '--key-file', other], io)).toBe(1);
    expect(io.err.join('')).toMatch(/not encrypted to this key/);
    expect(await readdir(outDir)).toEqual([]);
  });

  it('rejects bad usage with a UsageError', async () => {
    const cases: string[][] = [
      ['x.age'],
      ['--out', outDir],
      ['x.age', '--month', '2025-04', '--out', outDir],
      ['--month', '2025-13', '--out', outDir],
      ['--month', '../2025-04', '--out', outDir],
      ['x.age', '--out', outDir, '--force'],
    ];
    for (const args of cases) await expect(runDecrypt([...args, '--dir', dataDir], fakeIo())).rejects.toThrow(UsageError);
    const help = fakeIo();
    expect(await runDecrypt(['--help'], help)).toBe(0);
    expect(help.out.join('')).toMatch(/^Usage: filehaul decrypt/);
  });
});
