// A log file that appends whole lines synchronously and rotates by size: filehaul.log → filehaul.1.log … filehaul.K.log.
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface RotatingFileOptions {
  /** Rotate before a line would take the file past this many bytes. */
  maxBytes: number;
  /** Rotated files to keep besides the live one; the oldest beyond this is deleted. */
  keep: number;
  /** Called when a line cannot be written; logging must never break a download, so the line is dropped. */
  onWriteError?: (error: Error) => void;
}

/**
 * Writes are synchronous on purpose: every line is on disk (in the page cache) when the log call returns, so a
 * crash or process.exit loses nothing and flushing is trivial. Filehaul logs requests and state changes, not bytes —
 * a few lines a second — so the cost is nothing next to the downloads it describes.
 */
export class RotatingFile {
  readonly file: string;
  readonly #options: RotatingFileOptions;
  #fd: number | null;
  #size: number;

  constructor(file: string, options: RotatingFileOptions) {
    this.file = file;
    this.#options = options;
    mkdirSync(path.dirname(file), { recursive: true });
    this.#fd = this.#open();
    this.#size = fstatSync(this.#fd).size;
  }

  write(line: string): void {
    if (this.#fd === null) return;
    const bytes = Buffer.from(line, 'utf8');
    try {
      // Another Filehaul process may append to the same file, so confirm the size before deciding to rotate.
      if (this.#size > 0 && this.#size + bytes.length > this.#options.maxBytes) {
        this.#size = fstatSync(this.#fd).size;
        if (this.#size > 0 && this.#size + bytes.length > this.#options.maxBytes) this.#rotate();
      }
      writeSync(this.#fd, bytes);
      this.#size += bytes.length;
    } catch (error) {
      this.#options.onWriteError?.(error as Error);
    }
  }

  close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
  }

  #open(): number {
    // 0600: log lines name files and ids that belong to the user, even though they never carry the key.
    return openSync(this.file, 'a', 0o600);
  }

  /** The live file becomes .1, each .N becomes .N+1, the oldest (.keep) is dropped, and a fresh file opens. */
  #rotate(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    const { dir, name, ext } = path.parse(this.file);
    const numbered = (index: number) => path.join(dir, `${name}.${index}${ext}`);
    const keep = Math.max(0, Math.floor(this.#options.keep));
    try {
      rmSync(keep === 0 ? this.file : numbered(keep), { force: true });
      for (let index = keep; index >= 1; index--) {
        const from = index === 1 ? this.file : numbered(index - 1);
        try {
          renameSync(from, numbered(index));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    } finally {
      // Even if a rename failed, keep logging: to the live file, grown past its limit, rather than nowhere.
      this.#fd = this.#open();
      this.#size = fstatSync(this.#fd).size;
    }
  }
}
