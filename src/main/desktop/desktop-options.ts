// The controller's options for the desktop app: config.ini + environment, settings saved from the window, the keychain key, --demo.
import path from 'node:path';
import type { SettingsPatch } from '../../shared/contract.ts';
import { ContractError } from '../../shared/validate.ts';
import { serviceOptions, type CommonValues } from '../cli/options.ts';
import type { ControllerPorts } from '../controller.ts';
import { startDemoOrigin, type DemoOrigin } from '../demo/demo-origin.ts';
import type { ControllerOptions } from '../server/handler.ts';
import type { ServiceOptions } from '../service.ts';
import type { SecretStore } from './secret-store.ts';
import type { SettingsStore } from './settings-store.ts';

export interface DesktopOptionsInput {
  /** process.argv: `--demo` anywhere after the executable starts the sample Files API. */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  userDataDir: string;
  /** The data dir unless FILEHAUL_DIR names one (a desktop app's working directory is no place for downloads). */
  defaultDataDir: string;
  /** What the window saved last time (settings-store). */
  saved: SettingsPatch;
  /** The key from the keychain (secret-store); it wins over ANTHROPIC_API_KEY and config.ini. */
  storedApiKey: string | null;
  warn: (line: string) => void;
}

export function wantsDemo(argv: readonly string[]): boolean {
  return argv.slice(1).includes('--demo');
}

/**
 * Options without starting anything. In demo mode the environment, config.ini keys and saved settings are not
 * used at all (no real key or endpoint is touched) and data goes to userData/data-demo; apiBase and apiKey are
 * filled in by openDesktopOptions once the demo origin listens.
 */
export function desktopOptions(input: DesktopOptionsInput): ControllerOptions {
  const base = { json: false, help: false } satisfies CommonValues;
  if (wantsDemo(input.argv)) {
    const options = serviceOptions({ ...base, dir: path.join(input.userDataDir, 'data-demo') }, {}, input.warn);
    return { ...options, apiKey: null, backupApiBase: null, demo: true };
  }
  const dir = input.env.FILEHAUL_DIR?.trim() ? undefined : input.defaultDataDir;
  let options: ServiceOptions;
  try {
    // Saved settings travel as flags: what the user last chose in the window wins, and a preset sets its timeouts.
    options = serviceOptions({ ...base, ...savedFlags(input.saved), dir }, input.env, input.warn);
  } catch (error) {
    if (Object.keys(input.saved).length === 0) throw error;
    // A saved value the config loader refuses must not keep the app from starting: start without them, say why.
    input.warn(`the settings saved from the window were not applied: ${(error as Error).message}`);
    options = serviceOptions({ ...base, dir }, input.env, input.warn);
  }
  return { ...options, apiKey: input.storedApiKey ?? options.apiKey, demo: false };
}

/** desktopOptions, plus the demo origin started and wired in when --demo was given. */
export async function openDesktopOptions(
  input: DesktopOptionsInput,
  startDemo: () => Promise<DemoOrigin> = () => startDemoOrigin(),
): Promise<{ options: ControllerOptions; demo: DemoOrigin | null }> {
  const options = desktopOptions(input);
  if (!options.demo) return { options, demo: null };
  const demo = await startDemo();
  return { options: { ...options, apiBase: demo.url, apiKey: demo.apiKey }, demo };
}

/**
 * Where setSettings keeps what it changes. The demo keeps nothing: its key is the sample one and its settings last
 * one run, so trying the demo never touches the real keychain or the real settings.
 */
export function desktopPorts(demo: boolean, secrets: SecretStore, settings: SettingsStore, onKeySaved: (key: string | null) => void = () => {}): ControllerPorts {
  if (demo) {
    return {
      saveApiKey: async () => {
        throw new ContractError('The demo uses its own sample key; start Filehaul without --demo to set yours.');
      },
      saveSettings: async () => {},
    };
  }
  return {
    saveApiKey: async (key) => {
      await secrets.save(key);
      onKeySaved(key);
    },
    saveSettings: (patch) => settings.save(patch),
  };
}

/** Saved settings as the config loader's flags, so they are parsed and checked like every other source. */
export function savedFlags(saved: SettingsPatch): Partial<CommonValues> {
  const flags: { -readonly [Name in keyof CommonValues]?: CommonValues[Name] } = {};
  if (saved.apiBase !== undefined) flags['api-base'] = saved.apiBase;
  if (saved.backupApiBase !== undefined) flags['backup-api-base'] = saved.backupApiBase ?? 'none';
  if (saved.connections !== undefined) flags.connections = String(saved.connections);
  if (saved.parallelFiles !== undefined) flags['parallel-files'] = String(saved.parallelFiles);
  if (saved.requestsPerMinute !== undefined) flags.rpm = String(saved.requestsPerMinute);
  // 0 is the loader's word for unlimited.
  if (saved.limitRate !== undefined) flags['limit-rate'] = saved.limitRate === null ? '0' : String(saved.limitRate);
  if (saved.preset !== undefined) flags.preset = saved.preset;
  if (saved.encrypt !== undefined) flags.encrypt = saved.encrypt;
  return flags;
}
