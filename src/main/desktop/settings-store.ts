// The settings a window changed (never the API key), kept as JSON in userData so they apply again on the next start.
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SettingsPatch } from '../../shared/contract.ts';
import { validateRequest } from '../../shared/validate.ts';

export const SETTINGS_FILE = 'settings.json';

export interface SettingsStore {
  /** What was saved before, checked by the same validator as a request; {} when there is nothing (usable). */
  load(): SettingsPatch;
  /** Merges the patch into what is saved. The API key is dropped even if present: it lives in the keychain only. */
  save(patch: SettingsPatch): Promise<void>;
}

export function createSettingsStore(userDataDir: string, warn: (line: string) => void = () => {}): SettingsStore {
  const file = path.join(userDataDir, SETTINGS_FILE);
  let current: SettingsPatch | null = null;
  let queue: Promise<void> = Promise.resolve();

  const load = (): SettingsPatch => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot read ${file}: ${(error as Error).message}; using defaults`);
      return {};
    }
    try {
      // A hand-edited or damaged file must not get past the checks every window request passes.
      const valid = validateRequest('setSettings', JSON.parse(text));
      return withoutKey(valid.args as SettingsPatch);
    } catch (error) {
      warn(`ignoring ${file}: ${(error as Error).message}`);
      return {};
    }
  };

  return {
    load() {
      current = load();
      return { ...current };
    },
    save(patch) {
      const next = queue.then(async () => {
        current = { ...(current ?? load()), ...withoutKey(patch) };
        await mkdir(userDataDir, { recursive: true, mode: 0o700 });
        const temp = `${file}.${process.pid}.tmp`;
        await writeFile(temp, `${JSON.stringify(current, null, 2)}\n`, { mode: 0o600 });
        await rename(temp, file);
      });
      queue = next.catch(() => {});
      return next;
    },
  };
}

function withoutKey(patch: SettingsPatch): SettingsPatch {
  const { apiKey: _secret, ...rest } = patch;
  return rest;
}
