// The .part file a download writes into: opened once, sized up front, written at each range's offset, synced on demand.
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Bytes written since the last sync after which a sync starts on its own ("write-behind"). Linux leaves dirty pages
 * in memory until 10% of RAM is dirty or they are 30 s old, so without this a fast download keeps the disk idle
 * and then waits for all of it in finalize's fsync: on 1 GiB over loopback that fsync was ~1 s, now ~0.2 s, because
 * the disk writes while the network is still delivering. One at a time, so a slow disk is never handed a queue of them.
 */
export const WRITE_BEHIND_BYTES = 64 * 1024 * 1024;

export class PartFile {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #writeBehindBytes: number;
  #unsynced = 0;
  #writeBehind: Promise<void> | null = null;
  /** A write-behind sync's failure, kept for the next sync(): Linux reports a write-back error to one fsync only. */
  #writeBehindError: unknown = null;

  private constructor(path: string, handle: FileHandle, writeBehindBytes: number) {
    this.path = path;
    this.#handle = handle;
    this.#writeBehindBytes = writeBehindBytes;
  }

  /**
   * Opens (or creates) the part file without truncating what an earlier run wrote, and sets its length when known.
   * Node has no posix_fallocate, so "preallocate" means setting the length (a sparse file); ranges then land in place
   * and nothing has to be merged at the end.
   */
  static async open(path: string, size: number | null, writeBehindBytes = WRITE_BEHIND_BYTES): Promise<PartFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      handle = await open(path, 'w+', 0o600);
    }
    const file = new PartFile(path, handle, writeBehindBytes);
    if (size !== null) {
      const { size: current } = await handle.stat();
      if (current !== size) await handle.truncate(size);
    }
    return file;
  }

  /** Writes all of `data` at `position`; resolves once the kernel has it (not yet durable: see sync). */
  async write(data: Uint8Array, position: number): Promise<void> {
    await this.#writeAll(data, position);
    this.#wrote(data.length);
  }

  async #writeAll(data: Uint8Array, position: number): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.#handle.write(data, written, data.length - written, position + written);
      written += bytesWritten;
    }
  }

  /** Writes buffers back to back at `position` in one system call where the kernel takes them all. */
  async writev(buffers: Buffer[], position: number): Promise<void> {
    if (buffers.length === 1) return this.write(buffers[0], position);
    const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    const { bytesWritten } = await this.#handle.writev(buffers, position);
    if (bytesWritten < total) {
      // A short write is rare on regular files; finish the rest the simple way.
      await this.#writeAll(Buffer.concat(buffers).subarray(bytesWritten), position + bytesWritten);
    }
    this.#wrote(total);
  }

  /** Counts written bytes and starts a write-behind sync once enough have piled up since the last one began. */
  #wrote(bytes: number): void {
    this.#unsynced += bytes;
    if (this.#writeBehindBytes <= 0 || this.#writeBehind !== null || this.#unsynced < this.#writeBehindBytes) return;
    this.#unsynced = 0;
    this.#writeBehind = this.#handle
      .datasync()
      .catch((error: unknown) => void (this.#writeBehindError ??= error))
      .finally(() => (this.#writeBehind = null));
  }

  /** Makes every completed write durable; only after this may an offset be recorded as confirmed. */
  async sync(): Promise<void> {
    this.#unsynced = 0;
    await this.#handle.datasync();
    // A write-behind sync may have taken the disk's error report for itself: this sync must not pass as a success.
    if (this.#writeBehindError !== null) throw this.#writeBehindError;
  }

  async size(): Promise<number> {
    return (await this.#handle.stat()).size;
  }

  async truncate(size: number): Promise<void> {
    await this.#writeBehind;
    await this.#handle.truncate(size);
  }

  /** Waits for a write-behind sync still running: its descriptor must not be closed (and its number reused) under it. */
  async close(): Promise<void> {
    await this.#writeBehind;
    await this.#handle.close();
  }
}
