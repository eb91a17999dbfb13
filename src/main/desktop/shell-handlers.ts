// Desktop-only extras for archived files: open one with the OS, or reveal it in the file manager — inside raw/ only.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ContractError } from '../../shared/validate.ts';
import { OPEN_PATH_CHANNEL, SHOW_IN_FOLDER_CHANNEL, type IpcMainLike } from './channels.ts';
import { answer, type DoorOptions } from './ipc-handlers.ts';

/** The part of Electron's shell used here. */
export interface ShellLike {
  /** Resolves with '' on success, else an error text. */
  openPath(absolutePath: string): Promise<string>;
  showItemInFolder(absolutePath: string): void;
}

const MAX_PATH_LENGTH = 4096;

export function registerShellHandlers(ipcMain: IpcMainLike, shell: ShellLike, dataDir: () => string, options: DoorOptions = {}): () => void {
  ipcMain.handle(OPEN_PATH_CHANNEL, (event, relativePath) => answer(event, options, async () => {
    const target = await archivedFile(dataDir(), relativePath);
    const problem = await shell.openPath(target);
    if (problem) throw new ContractError(`The file could not be opened: ${problem}`);
  }));
  ipcMain.handle(SHOW_IN_FOLDER_CHANNEL, (event, relativePath) => answer(event, options, async () => {
    shell.showItemInFolder(await archivedFile(dataDir(), relativePath));
  }));
  return () => {
    ipcMain.removeHandler(OPEN_PATH_CHANNEL);
    ipcMain.removeHandler(SHOW_IN_FOLDER_CHANNEL);
  };
}

/**
 * The absolute path of an archived file, given as the archive reports it (raw/YYYY-MM/name, relative to the data
 * dir). Anything else — absolute paths, `..`, the catalog, config.ini, a symlink leading out — is refused, so a
 * window can never have the OS open an arbitrary file.
 */
export async function archivedFile(dataDir: string, relativePath: unknown): Promise<string> {
  if (typeof relativePath !== 'string' || relativePath.length === 0 || relativePath.length > MAX_PATH_LENGTH || relativePath.includes('\0')) {
    throw new ContractError(`the path must be a non-empty string of at most ${MAX_PATH_LENGTH} characters`);
  }
  const parts = relativePath.split(/[\\/]/);
  if (path.isAbsolute(relativePath) || path.win32.isAbsolute(relativePath) || parts[0] !== 'raw' || parts.length < 3 || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new ContractError('the path must be an archived file (raw/YYYY-MM/name)');
  }
  const rawDir = path.join(dataDir, 'raw');
  let real: string;
  let realRaw: string;
  try {
    [real, realRaw] = await Promise.all([realpath(path.join(dataDir, ...parts)), realpath(rawDir)]);
  } catch {
    throw new ContractError('the file is not in the archive any more (moved or deleted?)');
  }
  const inside = path.relative(realRaw, real);
  if (inside === '' || inside.split(path.sep)[0] === '..' || path.isAbsolute(inside)) throw new ContractError('the path must be an archived file (raw/YYYY-MM/name)');
  if (!(await stat(real)).isFile()) throw new ContractError('the path must be an archived file (raw/YYYY-MM/name)');
  return real;
}
