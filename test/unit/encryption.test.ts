// Tests for encryption.ts: age round trips at chunk boundaries, and that wrong keys or damaged files leave nothing behind.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DecryptionError, decryptFile, decryptToStream, encryptFile, plaintextSha256 } from '../../src/main/archive/encryption.ts';
import { generateIdentity, recipientOf } from '../../src/main/archive/encryption-keys.ts';

const KiB = 1024;
const CHUNK = 64 * KiB;
// age's payload: 64 KiB plaintext chunks, each sealed with a 16-byte Poly1305 tag.
const SEALED_CHUNK = CHUNK + 16;

let root: string;
let identity: string;
let recipient: string;

beforeAll(async () => {
  identity = await generateIdentity();
  recipient = await recipientOf(identity);
});
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-encryption-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function plainFile(name: string, size: number): Promise<{ file: string; bytes: Buffer }> {
  const bytes = randomBytes(size);
  const file = path.join(root, name);
  await writeFile(file, bytes);
  return { file, bytes };
}

async function encrypted(size: number): Promise<{ file: string; bytes: Buffer; age: string }> {
  const { file, bytes } = await plainFile(`plain-${size}`, size);
  const age = `${file}.age`;
  await encryptFile(file, age, recipient);
  return { file, bytes, age };
}

/** The ciphertext length of the payload part (after header and nonce), derived from the file's total size. */
function payloadLength(plainSize: number): number {
  return plainSize + 16 * Math.max(1, Math.ceil(plainSize / CHUNK));
}

async function expectNothingBesides(dir: string, names: string[]): Promise<void> {
  expect((await readdir(dir)).sort()).toEqual([...names].sort());
}

describe('encryptFile / decryptFile', () => {
  const sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * 1024 * KiB + 17];
  for (const size of sizes) {
    it(`round-trips ${size} random bytes and reports the plaintext hash`, async () => {
      const { file, bytes } = await plainFile('plain.bin', size);
      const age = path.join(root, 'plain.bin.age');
      const result = await encryptFile(file, age, recipient);
      expect(result).toEqual({ plaintextSha256: sha256(bytes), bytes: size });

      const ciphertext = await readFile(age);
      expect(ciphertext.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
      // The payload is exactly age's chunked size, so the file ends with the final chunk and nothing else.
      const headerAndNonce = ciphertext.length - payloadLength(size);
      expect(ciphertext.subarray(0, headerAndNonce).includes(Buffer.from('\n--- '))).toBe(true);
      if (size >= 32) expect(ciphertext.includes(bytes.subarray(0, 32))).toBe(false);

      const out = path.join(root, 'out.bin');
      expect(await decryptFile(age, out, identity)).toEqual({ sha256: sha256(bytes), bytes: size });
      expect(sha256(await readFile(out))).toBe(sha256(bytes));
      expect(await plaintextSha256(age, identity)).toBe(sha256(bytes));
    });
  }

  it('writes ciphertext and plaintext with mode 0600 and leaves no temp files', async () => {
    const { age } = await encrypted(1000);
    const out = path.join(root, 'out.bin');
    await decryptFile(age, out, identity);
    if (process.platform !== 'win32') {
      expect((await stat(age)).mode & 0o777).toBe(0o600);
      expect((await stat(out)).mode & 0o777).toBe(0o600);
    }
    await expectNothingBesides(root, ['plain-1000', 'plain-1000.age', 'out.bin']);
  });

  it('never overwrites an existing destination unless asked to', async () => {
    const { file, age } = await encrypted(100);
    const out = path.join(root, 'taken.bin');
    await writeFile(out, 'keep me');
    await expect(decryptFile(age, out, identity)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(encryptFile(file, out, recipient)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(out, 'utf8')).toBe('keep me');
    await encryptFile(file, age, recipient, { overwrite: true });
    await decryptFile(age, out, identity, { overwrite: true });
    expect(await readFile(out)).toEqual(await readFile(file));
  });

  it('streams the plaintext with decryptToStream', async () => {
    const { bytes, age } = await encrypted(3 * CHUNK + 5);
    const pieces: Uint8Array[] = [];
    for await (const piece of decryptToStream(age, identity)) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(1);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(CHUNK);
    expect(Buffer.concat(pieces)).toEqual(bytes);
  });

  it('stops when aborted and leaves nothing at the destination', async () => {
    const { age } = await encrypted(4 * CHUNK);
    const controller = new AbortController();
    controller.abort();
    await expect(decryptFile(age, path.join(root, 'out.bin'), identity, { signal: controller.signal })).rejects.toThrow(/abort/i);
    await expectNothingBesides(root, ['plain-262144', 'plain-262144.age']);
  });
});

describe('refusals', () => {
  it('names a wrong identity plainly and writes nothing', async () => {
    const { age } = await encrypted(5000);
    const other = await generateIdentity();
    const out = path.join(root, 'out.bin');
    const error = await failure(decryptFile(age, out, other));
    expect(error).toBeInstanceOf(DecryptionError);
    expect((error as DecryptionError).kind).toBe('wrong-identity');
    expect((error as Error).message).toMatch(/not encrypted to this key/);
    expect((error as Error).message).not.toContain(other);
    expect((error as Error).message).not.toContain(identity);
    await expectNothingBesides(root, ['plain-5000', 'plain-5000.age']);
    await expect(plaintextSha256(age, other)).rejects.toThrow(/not encrypted to this key/);
  });

  it('rejects an invalid identity without quoting it', async () => {
    const { age } = await encrypted(10);
    // One changed character breaks the bech32 checksum; the library's own message would quote the whole key.
    const broken = identity.slice(0, -1) + (identity.endsWith('Q') ? 'P' : 'Q');
    const error = await failure(plaintextSha256(age, broken));
    expect(error.message).toMatch(/Not a valid age X25519 identity/);
    expect(JSON.stringify({ m: error.message, c: String(error.cause ?? '') })).not.toContain(broken.slice(20));
  });

  const damages: Array<[string, (file: string, size: number) => Promise<void>]> = [
    ['a flipped payload byte', async (file) => flipByte(file, -100)],
    ['a flipped header MAC byte', async (file) => flipByte(file, (await readFile(file)).indexOf('\n--- ') + 6)],
    ['one byte cut off the end', async (file) => truncate(file, (await stat(file)).size - 1)],
    ['the final chunk cut off at a chunk boundary', async (file) => truncate(file, (await stat(file)).size - SEALED_CHUNK)],
    ['everything after the nonce cut off', async (file, size) => truncate(file, (await stat(file)).size - payloadLength(size))],
    ['a cut inside the header', async (file) => truncate(file, 60)],
    ['bytes appended after the final chunk', async (file) => writeFile(file, Buffer.from('trailing'), { flag: 'a' })],
  ];
  for (const [what, damage] of damages) {
    it(`fails on ${what} and leaves no partial plaintext`, async () => {
      const size = 2 * CHUNK;
      const { age } = await encrypted(size);
      await damage(age, size);
      const out = path.join(root, 'out.bin');
      const error = await failure(decryptFile(age, out, identity));
      expect(error).toBeInstanceOf(DecryptionError);
      expect((error as DecryptionError).kind).toBe('damaged');
      expect((error as Error).message).toContain(age);
      await expectNothingBesides(root, [`plain-${size}`, `plain-${size}.age`]);
      await expect(plaintextSha256(age, identity)).rejects.toBeInstanceOf(DecryptionError);
    });
  }

  it('says so when a file is not age at all, or is armored', async () => {
    const { file } = await plainFile('plain.bin', 1000);
    await expect(plaintextSha256(file, identity)).rejects.toThrow(/not an age-encrypted file/);
    const empty = path.join(root, 'empty.age');
    await writeFile(empty, '');
    await expect(plaintextSha256(empty, identity)).rejects.toThrow(/not an age-encrypted file/);
    const armored = path.join(root, 'armored.age');
    await writeFile(armored, '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n');
    await expect(plaintextSha256(armored, identity)).rejects.toThrow(/ASCII-armored/);
  });

  it('rejects a recipient that is not one', async () => {
    const { file } = await plainFile('plain.bin', 10);
    await expect(encryptFile(file, `${file}.age`, 'age1notarecipient')).rejects.toThrow();
    await expectNothingBesides(root, ['plain.bin']);
  });
});

async function flipByte(file: string, at: number): Promise<void> {
  const bytes = await readFile(file);
  const index = at < 0 ? bytes.length + at : at;
  bytes[index] ^= 0x01;
  await writeFile(file, bytes);
}

/** The error a promise rejects with; fails the test if it resolves instead. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
