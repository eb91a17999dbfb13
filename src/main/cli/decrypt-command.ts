// `filehaul decrypt`: writes plaintext copies of age-encrypted archive files into a directory the user chooses.
import { readdir, realpath, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decryptFile } from '../archive/encryption.ts';
import { defaultKeyFilePath, readIdentityFile, KEY_FILE_NAME } from '../archive/encryption-keys.ts';
import { dataLayout } from '../archive/layout.ts';
import { safeFileName, withCopySuffix } from '../archive/safe-name.ts';
import type { CommandIo } from './get.ts';
import { formatBytes } from './format.ts';
import { UsageError } from './options.ts';

export const DECRYPT_HELP = `Usage: filehaul decrypt <file.age>... --out DIR [options]
       filehaul decrypt --month YYYY-MM --out DIR [options]

Decrypts age-encrypted files (the given ones, or every DIR/raw/YYYY-MM/*.age) into --out, dropping the .age
suffix. Existing files are never overwritten: an equal name becomes "name (2).ext". The archive is not changed.

Options:
  --out DIR          where the plaintext copies go (required; not inside the archive's raw/)
  --month YYYY-MM    decrypt every encrypted file of that archive month
  --dir DIR          data directory (default ./data)
  --key-file PATH    the age identity file (default DIR/${KEY_FILE_NAME}, mode 0600)
`;

const OPTIONS = {
  out: { type: 'string' },
  month: { type: 'string' },
  dir: { type: 'string', default: './data' },
  'key-file': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const MONTH = /^\d{4}-(?:0[1-9]|1[0-2])$/u;
// Copy names tried before a file is reported as failed; the same bound the archive placement uses.
const MAX_COPIES = 10_000;

export async function runDecrypt(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parse(args);
  if (values.help) {
    io.stdout.write(DECRYPT_HELP);
    return 0;
  }
  const { positionals } = values;
  if (values.out === undefined || values.out === '') throw new UsageError('decrypt needs --out DIR (see filehaul decrypt --help)');
  if (values.month !== undefined && positionals.length > 0) throw new UsageError('decrypt takes files or --month, not both');
  if (values.month === undefined && positionals.length === 0) throw new UsageError('decrypt needs files or --month YYYY-MM (see filehaul decrypt --help)');
  if (values.month !== undefined && !MONTH.test(values.month)) throw new UsageError(`--month must look like 2025-04, got "${values.month}"`);

  const layout = dataLayout(values.dir);
  const outDir = path.resolve(values.out);
  // Plaintext inside raw/ would sit in the archive unencrypted and unknown to the catalog.
  if (isInside(outDir, layout.rawDir) || isInside(await realpathOfNearest(outDir), await realpathOfNearest(layout.rawDir))) {
    throw new UsageError(`--out must not be inside the archive (${layout.rawDir})`);
  }
  const { identity } = await loadIdentity(values['key-file'] ?? defaultKeyFilePath(layout.dataDir));
  const sources = values.month !== undefined ? await monthFiles(layout.rawDir, values.month) : positionals.map((file) => path.resolve(file));
  if (sources.length === 0) {
    io.stdout.write(`No encrypted files in ${path.join(layout.rawDir, values.month ?? '')}.\n`);
    return 0;
  }
  await mkdir(outDir, { recursive: true });

  const controller = new AbortController();
  const removeInterrupt = io.onInterrupt(() => controller.abort());
  const failures: string[] = [];
  try {
    for (const source of sources) {
      if (controller.signal.aborted) break;
      try {
        const { dest, bytes } = await decryptOne(source, outDir, identity, controller.signal);
        io.stdout.write(`${source} -> ${dest} (${formatBytes(bytes)})\n`);
      } catch (error) {
        if (controller.signal.aborted) break;
        failures.push(`${source}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    removeInterrupt();
  }
  for (const failure of failures) io.stderr.write(`filehaul: ${failure}\n`);
  if (controller.signal.aborted) {
    io.stderr.write('filehaul: interrupted; nothing partial was written and the remaining files were not decrypted\n');
    return 130;
  }
  return failures.length > 0 ? 1 : 0;
}

/**
 * Decrypts into the first free name. The name is checked before decrypting (so a big file is decrypted once) and
 * the final placement refuses to replace (so a file that appears meanwhile is safe, and the next name is tried).
 */
async function decryptOne(source: string, outDir: string, identity: string, signal: AbortSignal): Promise<{ dest: string; bytes: number }> {
  const name = plaintextName(path.basename(source));
  for (let n = 1; n <= MAX_COPIES; n++) {
    const dest = path.join(outDir, n === 1 ? name : withCopySuffix(name, n));
    try {
      const { bytes } = await decryptFile(source, dest, identity, { overwrite: false, signal });
      return { dest, bytes };
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  throw new Error(`${MAX_COPIES} names for ${name} are already taken in ${outDir}`);
}

/** `report.pdf.age` → `report.pdf`; made a safe single name, as names given on the command line can be anything. */
function plaintextName(base: string): string {
  const stripped = base.toLowerCase().endsWith('.age') ? base.slice(0, -4) : base;
  return safeFileName(stripped, 'decrypted');
}

/**
 * raw/YYYY-MM/*.age, read straight from disk. Only regular files directly in the month folder are taken:
 * symbolic links are skipped and every path is checked to resolve inside raw/, so nothing outside it is read.
 */
async function monthFiles(rawDir: string, month: string): Promise<string[]> {
  const monthDir = path.join(rawDir, month);
  let entries;
  try {
    entries = await readdir(monthDir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const realRaw = await realpath(rawDir);
  const files: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.toLowerCase().endsWith('.age')) continue;
    const file = path.join(monthDir, entry.name);
    if (!isInside(await realpath(file), realRaw)) throw new Error(`Refusing ${file}: it resolves outside ${rawDir}`);
    files.push(file);
  }
  return files.sort();
}

function parse(args: readonly string[]): { out?: string; month?: string; dir: string; 'key-file'?: string; help: boolean; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
    return { ...values, dir: values.dir ?? './data', help: values.help ?? false, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

async function loadIdentity(keyFile: string): Promise<{ identity: string }> {
  try {
    return await readIdentityFile(keyFile);
  } catch (error) {
    // Making a new key here would be useless: only the identity the files were encrypted to can open them.
    if (errorCode(error) === 'ENOENT') throw new Error(`No key file at ${keyFile}; pass the identity the files were encrypted to with --key-file PATH`);
    throw error;
  }
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/** The real path of `file`, resolving its nearest existing ancestor when it does not exist yet (--out may be new). */
async function realpathOfNearest(file: string): Promise<string> {
  const rest: string[] = [];
  let current = file;
  for (;;) {
    try {
      return path.join(await realpath(current), ...rest);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return file;
      rest.unshift(path.basename(current));
      current = parent;
    }
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
