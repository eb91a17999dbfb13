// Archive placement: moves a finished download into its month directory, never overwriting, crash-safe.
import { link, lstat, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { withCopySuffix } from './safe-name.ts';

export interface PlaceOptions {
  /** How many names (`x`, `x (2)`, … `x (n)`) to try before giving up. */
  maxAttempts?: number;
  /**
   * Leave the source in place after linking (default false). For callers that record the final path first and
   * remove the source afterwards, so a crash in between simply repeats: the shared inode is found again.
   */
  keepSource?: boolean;
}

const DEFAULT_MAX_ATTEMPTS = 10_000;

// File systems without hard links (FAT/exFAT, some network shares) or a tmp/ on another device.
const NO_HARD_LINKS = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Moves `sourcePath` into `monthDir` as `name`, or `name (2)`, `name (3)`… if taken, and returns the absolute
 * final path. `name` must already be a safe single component (see safeFileName).
 *
 * link() rather than rename() because link fails with EEXIST instead of replacing, so an existing archive file
 * can never be clobbered. If a previous run crashed after linking, the source and an archive entry share an
 * inode; that entry is accepted instead of making a duplicate.
 */
export async function placeIntoArchive(
  sourcePath: string,
  monthDir: string,
  name: string,
  options: PlaceOptions = {},
): Promise<string> {
  assertSingleComponent(name);
  const dir = path.resolve(monthDir);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  await mkdir(dir, { recursive: true });
  const source = await stat(sourcePath);

  // More than one link means an earlier run linked it already, possibly under a name that is no longer the
  // first free one (a lower-numbered copy was deleted since), so look for it before linking anew.
  let finalPath = source.nlink > 1 ? await findByInode(dir, source) : null;

  for (let attempt = 1; finalPath === null; attempt++) {
    if (attempt > maxAttempts) {
      throw new Error(`Cannot place ${name} in ${dir}: ${maxAttempts} names are already taken`);
    }
    const candidate = path.join(dir, attempt === 1 ? name : withCopySuffix(name, attempt));
    finalPath = await tryLink(sourcePath, candidate, source);
  }

  if (options.keepSource !== true) {
    try {
      await unlink(sourcePath);
    } catch (error) {
      // Already gone is the state we want; anything else leaves a harmless second link a rerun will recognise.
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  // The new directory entry is not durable until the directory itself is synced. The unlink in tmp/ need not
  // be: if it is lost, the rerun sees the shared inode and accepts the existing entry.
  await fsyncDirectory(dir);
  return finalPath;
}

/** Where an earlier, interrupted placement already linked `sourcePath` in `monthDir`; null when nowhere. */
export async function findPlacedCopy(sourcePath: string, monthDir: string): Promise<string | null> {
  let source: Stats;
  try {
    source = await stat(sourcePath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  if (source.nlink < 2) return null;
  try {
    return await findByInode(path.resolve(monthDir), source);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Makes directory entries (new links, renames) durable. Some platforms cannot open or sync a directory
 * (Windows, some FUSE and network file systems); there the OS gives no stronger guarantee, so it is a no-op.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch (error) {
    if (process.platform === 'win32' && isUnsupportedDirSync(error)) return;
    // Elsewhere a directory that cannot be opened is a real problem (gone, no permission): surface it.
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!isUnsupportedDirSync(error)) throw error;
  } finally {
    await handle.close();
  }
}

/** The candidate path when the link was made or already points at the source; null when the name is taken. */
async function tryLink(sourcePath: string, candidate: string, source: Stats): Promise<string | null> {
  try {
    await link(sourcePath, candidate);
    return candidate;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') {
      const existing = await lstat(candidate);
      return sameFile(existing, source) ? candidate : null;
    }
    if (code !== undefined && NO_HARD_LINKS.has(code)) {
      throw new Error(
        `Cannot place ${path.basename(candidate)} in ${path.dirname(candidate)}: the data directory must be on one ` +
          `file system that supports hard links (${code})`,
        { cause: error },
      );
    }
    throw error;
  }
}

async function findByInode(dir: string, source: Stats): Promise<string | null> {
  for (const entry of await readdir(dir)) {
    const candidate = path.join(dir, entry);
    try {
      if (sameFile(await lstat(candidate), source)) return candidate;
    } catch (error) {
      // Entries can vanish while we scan (another placement, a user tidying up); they are not ours anyway.
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  return null;
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.isFile() && a.ino === b.ino && a.dev === b.dev;
}

/** Callers pass names from safeFileName; this guards the one property that matters here: staying inside monthDir. */
function assertSingleComponent(name: string): void {
  if (
    typeof name !== 'string' ||
    name === '' ||
    name === '.' ||
    name === '..' ||
    /[\\/\u0000]/u.test(name) ||
    path.basename(name) !== name
  ) {
    throw new Error(`Invalid archive file name ${JSON.stringify(name)}: must be a single path component`);
  }
}

function isUnsupportedDirSync(error: unknown): boolean {
  const code = errorCode(error);
  if (code === 'EINVAL' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return true;
  // Windows refuses to open or flush a directory handle outright; elsewhere these codes are real failures.
  return process.platform === 'win32' && (code === 'EISDIR' || code === 'EPERM' || code === 'EACCES');
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
