// The API key at rest: encrypted with Electron's safeStorage (OS keychain) in userData/api-key.bin, readable only by its owner.
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ContractError } from '../../shared/validate.ts';

export const API_KEY_FILE = 'api-key.bin';

/** The part of Electron's safeStorage used here (the async API: the sync one is deprecated as of Electron 45). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
  /** Linux only: which keyring backs the encryption. */
  getSelectedStorageBackend?(): string;
}

export interface SecretStore {
  /** The stored key, or null when none is stored or it cannot be decrypted (keychain reset, file from another machine). */
  load(): Promise<string | null>;
  /** Stores the key (null deletes it). Refuses, with a message for the window, when no real keychain is available. */
  save(key: string | null): Promise<void>;
}

export interface SecretStoreOptions {
  platform?: NodeJS.Platform;
  warn?: (line: string) => void;
}

export function createSecretStore(userDataDir: string, safeStorage: SafeStorageLike, options: SecretStoreOptions = {}): SecretStore {
  const file = path.join(userDataDir, API_KEY_FILE);
  const platform = options.platform ?? process.platform;
  const warn = options.warn ?? (() => {});
  // Writes one at a time: two quick saves must not interleave their temp files and renames.
  let queue: Promise<void> = Promise.resolve();

  const write = async (key: string): Promise<void> => {
    await requireKeychain(safeStorage, platform);
    const encrypted = await safeStorage.encryptStringAsync(key);
    await mkdir(userDataDir, { recursive: true, mode: 0o700 });
    // Temp file then rename: a crash mid-write leaves the old key, never half a new one.
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, encrypted, { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, file);
  };

  return {
    async load() {
      let encrypted: Buffer;
      try {
        encrypted = await readFile(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot read the stored API key (${(error as NodeJS.ErrnoException).code ?? 'error'}); set it again in Settings`);
        return null;
      }
      try {
        const { result, shouldReEncrypt } = await safeStorage.decryptStringAsync(encrypted);
        if (shouldReEncrypt) queue = queue.then(() => write(result)).catch(() => {});
        return result;
      } catch {
        // The error text of a failed decryption says nothing useful and could quote bytes; only say what to do.
        warn('the stored API key could not be decrypted (the system keychain changed?); set it again in Settings');
        return null;
      }
    },
    save(key) {
      const next = queue.then(() => (key === null ? rm(file, { force: true }) : write(key)));
      queue = next.catch(() => {});
      return next;
    },
  };
}

/**
 * Refuses to store the key where "encrypted" would be a pretence: no keychain at all, or Linux's basic_text
 * backend (a fixed, public password) when no Secret Service or KWallet runs.
 */
async function requireKeychain(safeStorage: SafeStorageLike, platform: NodeJS.Platform): Promise<void> {
  const available = await safeStorage.isAsyncEncryptionAvailable();
  const backend = platform === 'linux' ? safeStorage.getSelectedStorageBackend?.() : undefined;
  if (!available || backend === 'basic_text') {
    throw new ContractError(
      'No system keychain is available to store the API key safely. Set ANTHROPIC_API_KEY or api_key in config.ini instead, or start a keyring (GNOME Keyring, KWallet).',
    );
  }
}
