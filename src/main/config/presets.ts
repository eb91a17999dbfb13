// Timeout presets by network, from the source article: how long to wait for a connection and for silence mid-transfer.

export interface TimeoutPreset {
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

/** The article's measured recommendations: LAN 10 s / 300 s, public cloud 30 s / 600 s, cross-border 60 s / 900 s. */
export const PRESETS = {
  lan: { connectTimeoutMs: 10_000, readTimeoutMs: 300_000 },
  cloud: { connectTimeoutMs: 30_000, readTimeoutMs: 600_000 },
  'cross-border': { connectTimeoutMs: 60_000, readTimeoutMs: 900_000 },
} as const satisfies Record<string, TimeoutPreset>;

export type PresetName = keyof typeof PRESETS;

export const DEFAULT_PRESET: PresetName = 'cloud';

export function isPresetName(text: string): text is PresetName {
  return Object.hasOwn(PRESETS, text);
}
