// The .part file a download writes into: opened once, sized up front, written at each range's offset, synced on demand.
import { open, type FileHandle } from 'node:fs/promises';

export class PartFile {
  readonly path: string;
  readonly #handle: FileHandle;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  /**
   * Opens (or creates) the part file without truncating what an earlier run wrote, and sets its length when known.
   * Node has no posix_fallocate, so "preallocate" means setting the length (a sparse file); ranges then land in place
   * and nothing has to be merged at the end.
   */
  static async open(path: string, size: number | null): Promise<PartFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      handle = await open(path, 'w+', 0o600);
    }
    const file = new PartFile(path, handle);
    if (size !== null) {
      const { size: current } = await handle.stat();
      if (current !== size) await handle.truncate(size);
    }
    return file;
  }

  /** Writes all of `data` at `position`; resolves once the kernel has it (not yet durable: see sync). */
  async write(data: Uint8Array, position: number): Promise<void> {
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
      await this.write(Buffer.concat(buffers).subarray(bytesWritten), position + bytesWritten);
    }
  }

  /** Makes every completed write durable; only after this may an offset be recorded as confirmed. */
  async sync(): Promise<void> {
    await this.#handle.datasync();
  }

  async size(): Promise<number> {
    return (await this.#handle.stat()).size;
  }

  async truncate(size: number): Promise<void> {
    await this.#handle.truncate(size);
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}
