// Encryption at rest: streams files into and out of the age format (X25519) with bounded memory and no partial output.
import { createHash, randomBytes } from 'node:crypto';
import { link, lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ageLibrary } from './age-library.ts';
import { checkedIdentity } from './encryption-keys.ts';
import { fsyncDirectory } from './place.ts';

/** Bytes read from disk at a time. age itself seals the payload in 64 KiB chunks, so this matches its rhythm. */
export const PIECE_BYTES = 64 * 1024;

export interface EncryptResult {
  /** SHA-256 (hex) of the plaintext that was encrypted: what the catalog records and verify checks. */
  plaintextSha256: string;
  /** Plaintext bytes. */
  bytes: number;
}

export interface DecryptResult {
  sha256: string;
  bytes: number;
}

export interface WriteOptions {
  /**
   * Replace an existing destination (default false). Without it an existing file makes the call fail with code
   * EEXIST and is left untouched — archive files and a user's files are never clobbered by accident.
   */
  overwrite?: boolean;
  /** Stops the work between pieces; the temporary output is removed and nothing appears at the destination. */
  signal?: AbortSignal;
}

/** Why a file could not be decrypted, so callers (verify, the desktop UI) can tell a wrong key from a damaged file. */
export type DecryptionFailure = 'not-age' | 'wrong-identity' | 'damaged';

export class DecryptionError extends Error {
  readonly kind: DecryptionFailure;
  constructor(kind: DecryptionFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DecryptionError';
    this.kind = kind;
  }
}

const AGE_MAGIC = new TextEncoder().encode('age-encryption.org/v1\n');
const ARMOR_MAGIC = new TextEncoder().encode('-----BEGIN AGE ENCRYPTED FILE-----');

/**
 * Encrypts `sourcePath` to `recipient` (age1…) into `destPath`, hashing the plaintext on the way. The ciphertext is
 * written to a temporary file beside `destPath` (mode 0600), fsynced, and only then put in place, so `destPath`
 * never holds a partial file. Memory stays at a few 64 KiB pieces whatever the file size.
 */
export async function encryptFile(sourcePath: string, destPath: string, recipient: string, options: WriteOptions = {}): Promise<EncryptResult> {
  const { Encrypter } = await ageLibrary();
  const encrypter = new Encrypter();
  // The recipient is public, so the library's message (which may quote it) is safe to pass on.
  encrypter.addRecipient(recipient);
  const source = await open(sourcePath, 'r');
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    const plaintext = fileStream(source, null, (piece) => {
      hash.update(piece);
      bytes += piece.length;
    });
    const ciphertext = await encrypter.encrypt(plaintext);
    await writeDurably(destPath, iterate(ciphertext), options);
    return { plaintextSha256: hash.digest('hex'), bytes };
  } finally {
    await source.close();
  }
}

/**
 * The plaintext of an age file, piece by piece. Every piece is authenticated, but truncation or a missing final
 * chunk is only detectable at the end: treat what was yielded as trustworthy only once iteration ends without an
 * error (decryptFile and plaintextSha256 do exactly that).
 */
export async function* decryptToStream(sourcePath: string, identity: string, signal?: AbortSignal): AsyncGenerator<Uint8Array, void, undefined> {
  const { Decrypter } = await ageLibrary();
  const decrypter = new Decrypter();
  decrypter.addIdentity(await checkedIdentity(identity));
  const source = await open(sourcePath, 'r');
  try {
    const first = await readPiece(source);
    checkMagic(first, sourcePath);
    let plaintext: ReadableStream<Uint8Array>;
    try {
      plaintext = await decrypter.decrypt(fileStream(source, first, null));
    } catch (error) {
      throw headerError(sourcePath, error);
    }
    for await (const piece of iterate(plaintext, (error) => payloadError(sourcePath, error))) {
      signal?.throwIfAborted();
      yield piece;
    }
  } finally {
    await source.close();
  }
}

/**
 * Decrypts `sourcePath` into `destPath` (mode 0600). The plaintext goes to a temporary file beside `destPath` and
 * is put in place only after age has verified the last chunk, so a wrong key, a tampered or truncated file leaves
 * nothing behind.
 */
export async function decryptFile(sourcePath: string, destPath: string, identity: string, options: WriteOptions = {}): Promise<DecryptResult> {
  const hash = createHash('sha256');
  let bytes = 0;
  async function* hashed(): AsyncGenerator<Uint8Array, void, undefined> {
    for await (const piece of decryptToStream(sourcePath, identity, options.signal)) {
      hash.update(piece);
      bytes += piece.length;
      yield piece;
    }
  }
  await writeDurably(destPath, hashed(), options);
  return { sha256: hash.digest('hex'), bytes };
}

/** SHA-256 (hex) of an age file's plaintext, decrypted as a stream: how verify checks an encrypted archive file. */
export async function plaintextSha256(sourcePath: string, identity: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of decryptToStream(sourcePath, identity, signal)) hash.update(piece);
  return hash.digest('hex');
}

/**
 * Moves a finished temporary file to `destPath`. Without `overwrite`, link() is used because it fails with EEXIST
 * instead of replacing, so a file that appeared meanwhile is never clobbered; the temp name is then dropped.
 */
async function commitTempFile(tempPath: string, destPath: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(tempPath, destPath);
    return;
  }
  try {
    await link(tempPath, destPath);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') throw alreadyExists(destPath, error);
    // File systems without hard links (FAT/exFAT sticks, some shares): check, then rename. The window between
    // the two is tiny and only another writer racing for the same name could slip into it.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    if (await exists(destPath)) throw alreadyExists(destPath, error);
    await rename(tempPath, destPath);
    return;
  }
  await rm(tempPath, { force: true });
}

/** Writes `pieces` to a 0600 temp file beside `destPath`, fsyncs it, then commits it; on any failure removes it. */
async function writeDurably(destPath: string, pieces: AsyncIterable<Uint8Array>, options: WriteOptions): Promise<void> {
  const dir = path.dirname(path.resolve(destPath));
  // A short fixed-shape name: the destination's own name may already be 255 bytes long.
  const tempPath = path.join(dir, `.filehaul-${randomBytes(8).toString('hex')}.tmp`);
  if (!options.overwrite && (await exists(destPath))) throw alreadyExists(destPath);
  // 0600 from creation on: the plaintext of an encrypted archive is as private as its key, and the ciphertext
  // reveals sizes. umask can only remove bits, never add them.
  const out = await open(tempPath, 'wx', 0o600);
  let closed = false;
  let committed = false;
  try {
    for await (const piece of pieces) {
      options.signal?.throwIfAborted();
      await writeAll(out, piece);
    }
    options.signal?.throwIfAborted();
    await out.sync();
    await out.close();
    closed = true;
    await commitTempFile(tempPath, destPath, options.overwrite === true);
    committed = true;
  } finally {
    if (!closed) await out.close().catch(() => undefined);
    if (!committed) await rm(tempPath, { force: true });
  }
  await fsyncDirectory(dir);
}

async function writeAll(out: FileHandle, piece: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < piece.length) {
    const { bytesWritten } = await out.write(piece, offset, piece.length - offset, null);
    offset += bytesWritten;
  }
}

/**
 * A pull-based web stream over an open file: one piece is read only when the consumer asks for one, so the
 * age transform's backpressure reaches the disk. (Readable.toWeb is avoided: older Node versions ignored
 * backpressure there and read whole files ahead.) Each piece is a fresh buffer because age copies it later.
 */
function fileStream(handle: FileHandle, first: Uint8Array | null, onPiece: ((piece: Uint8Array) => void) | null): ReadableStream<Uint8Array> {
  let pending = first;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let piece: Uint8Array;
        if (pending !== null) {
          piece = pending;
          pending = null;
        } else {
          piece = await readPiece(handle);
        }
        if (piece.length === 0) {
          controller.close();
          return;
        }
        onPiece?.(piece);
        controller.enqueue(piece);
      },
    },
    new CountQueuingStrategy({ highWaterMark: 1 }),
  );
}

async function readPiece(handle: FileHandle): Promise<Uint8Array> {
  const buffer = new Uint8Array(PIECE_BYTES);
  let filled = 0;
  // Fill the piece so the magic check below always sees the whole 22-byte header line when the file has one.
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Reads a web stream as an async iterable, cancelling it if the consumer stops early; maps the stream's errors. */
async function* iterate(stream: ReadableStream<Uint8Array>, mapError?: (error: unknown) => unknown): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        finished = true;
        throw mapError ? mapError(error) : error;
      }
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/**
 * Checks the first line before handing the file to age: gives a plain answer for files that are not age at all
 * (and for armored ones), and keeps age's line reader from scanning a huge newline-free file for a header.
 */
function checkMagic(first: Uint8Array, sourcePath: string): void {
  if (startsWith(first, AGE_MAGIC)) return;
  if (startsWith(first, ARMOR_MAGIC)) {
    throw new DecryptionError('not-age', `Cannot decrypt ${sourcePath}: it is ASCII-armored age; Filehaul reads binary age files only (age -d reads both)`);
  }
  throw new DecryptionError('not-age', `Cannot decrypt ${sourcePath}: it is not an age-encrypted file`);
}

function headerError(sourcePath: string, error: unknown): unknown {
  if (errorCode(error) !== undefined) return error; // an I/O error from the disk, not a verdict on the file
  const message = error instanceof Error ? error.message : String(error);
  if (/no identity matched/iu.test(message)) {
    // A damaged recipient stanza looks exactly like someone else's: age cannot tell them apart, so neither can we.
    return new DecryptionError('wrong-identity', `Cannot decrypt ${sourcePath}: it was not encrypted to this key (or its header is damaged)`, { cause: error });
  }
  return new DecryptionError('damaged', `Cannot decrypt ${sourcePath}: its age header is damaged (${message})`, { cause: error });
}

function payloadError(sourcePath: string, error: unknown): unknown {
  if (errorCode(error) !== undefined || error instanceof DOMException) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DecryptionError('damaged', `Cannot decrypt ${sourcePath}: the file is damaged or truncated, authentication failed (${message})`, { cause: error });
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

function alreadyExists(destPath: string, cause?: unknown): Error {
  return Object.assign(new Error(`${destPath} already exists`, { cause }), { code: 'EEXIST' });
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
