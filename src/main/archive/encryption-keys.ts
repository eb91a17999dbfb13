// age identities for encryption at rest: making them, deriving their recipients, and the 0600 key file of the command line.
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ageLibrary } from './age-library.ts';
import { fsyncDirectory } from './place.ts';

/** Where the command line keeps the identity of a data directory unless --key-file says otherwise. */
export const KEY_FILE_NAME = 'filehaul-identity.txt';

export interface LoadedIdentity {
  /** AGE-SECRET-KEY-1…: the secret. Never log it, put it in an error, a manifest or the catalog. */
  identity: string;
  /** age1…: the public half, what files are encrypted to. */
  recipient: string;
  /** True when this call made the key file. */
  created: boolean;
}

export function defaultKeyFilePath(dataDir: string): string {
  return path.join(path.resolve(dataDir), KEY_FILE_NAME);
}

/**
 * A new X25519 identity. X25519 rather than age's post-quantum hybrid keys on purpose: age 1.1/1.2 (what Debian
 * and most distributions ship) cannot read hybrid files, and the archive must open with the standard tool.
 */
export async function generateIdentity(): Promise<string> {
  return (await ageLibrary()).generateX25519Identity();
}

/** The recipient (age1…) of an X25519 identity; throws a message that never quotes the identity. */
export async function recipientOf(identity: string): Promise<string> {
  const checked = await checkedIdentity(identity);
  const { identityToRecipient } = await ageLibrary();
  try {
    return await identityToRecipient(checked);
  } catch {
    throw invalidIdentity();
  }
}

/**
 * The identity, trimmed, once age accepts it as an X25519 secret key. The library's own errors are dropped, not
 * wrapped: its bech32 decoder quotes the whole input ("Invalid checksum in AGE-SECRET-KEY-1…"), which is the key.
 */
export async function checkedIdentity(identity: string): Promise<string> {
  const trimmed = typeof identity === 'string' ? identity.trim() : '';
  if (!trimmed.startsWith('AGE-SECRET-KEY-1')) throw invalidIdentity();
  const { Decrypter } = await ageLibrary();
  try {
    new Decrypter().addIdentity(trimmed);
  } catch {
    throw invalidIdentity();
  }
  return trimmed;
}

/**
 * The identity in `keyFilePath`, creating the file (mode 0600, age-keygen's format so `age -d -i` reads it) when
 * there is none. Creation is atomic and never replaces a key file another process made meanwhile: losing a key
 * would make every file encrypted to it unreadable forever.
 */
export async function loadOrCreateIdentity(keyFilePath: string): Promise<LoadedIdentity> {
  try {
    return { ...(await readIdentityFile(keyFilePath)), created: false };
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  const identity = await generateIdentity();
  const recipient = await recipientOf(identity);
  const dir = path.dirname(path.resolve(keyFilePath));
  // 0700 only matters for a directory made here; an existing one (the data dir) keeps its mode.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tempPath = path.join(dir, `.filehaul-key-${randomBytes(8).toString('hex')}.tmp`);
  const text = `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  try {
    const handle = await open(tempPath, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await placeWithoutReplacing(tempPath, keyFilePath);
  } catch (error) {
    // Another process created the key first: use theirs, so both encrypt to the same identity.
    if (errorCode(error) === 'EEXIST') return { ...(await readIdentityFile(keyFilePath)), created: false };
    throw error;
  } finally {
    await rm(tempPath, { force: true });
  }
  await fsyncDirectory(dir);
  return { identity, recipient, created: true };
}

/**
 * Reads an existing key file: comments (#) and blank lines are skipped and exactly one AGE-SECRET-KEY-1 line must
 * remain. Refuses a file that group or others can access (skipped on Windows, which has no such mode bits).
 * A missing file throws with code ENOENT and a message saying where it was looked for.
 */
export async function readIdentityFile(keyFilePath: string): Promise<{ identity: string; recipient: string }> {
  let info;
  try {
    info = await stat(keyFilePath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      throw Object.assign(new Error(`No key file at ${keyFilePath}`, { cause: error }), { code: 'ENOENT' });
    }
    throw error;
  }
  if (!info.isFile()) throw new Error(`The key file ${keyFilePath} is not a regular file`);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
    throw Object.assign(
      new Error(`The key file ${keyFilePath} can be read or changed by other users (mode ${mode}); run: chmod 600 '${keyFilePath}'`),
      { code: 'EKEYPERM' },
    );
  }
  const lines = (await readFile(keyFilePath, 'utf8'))
    .split(/\r?\n/u)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  // Line contents are never quoted in these messages: a malformed line may still be most of a secret key.
  if (lines.length !== 1) {
    throw new Error(`The key file ${keyFilePath} must hold exactly one age identity (AGE-SECRET-KEY-1…), found ${lines.length} non-comment lines`);
  }
  try {
    const identity = await checkedIdentity(lines[0]);
    return { identity, recipient: await recipientOf(identity) };
  } catch {
    throw new Error(`The key file ${keyFilePath} does not hold a valid age X25519 identity (AGE-SECRET-KEY-1…)`);
  }
}

/**
 * link() fails with EEXIST where rename() would silently replace, so a key made by a racing process survives.
 * File systems without hard links fall back to check-then-rename.
 */
async function placeWithoutReplacing(tempPath: string, keyFilePath: string): Promise<void> {
  try {
    await link(tempPath, keyFilePath);
    return;
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  }
  try {
    await lstat(keyFilePath);
    throw Object.assign(new Error(`${keyFilePath} already exists`), { code: 'EEXIST' });
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  await rename(tempPath, keyFilePath);
}

function invalidIdentity(): Error {
  return new Error('Not a valid age X25519 identity (expected AGE-SECRET-KEY-1…)');
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
