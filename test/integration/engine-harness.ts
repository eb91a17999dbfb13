// Shared set-up for engine tests: a Filehaul service in a temp data dir, pointed at a test origin, with fast retries.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DownloadEvent } from '../../src/main/engine/events.ts';
import { DEFAULT_SERVICE_OPTIONS, FilehaulService, type ServiceOptions } from '../../src/main/service.ts';
import { startOrigin, type Origin, type OriginOptions } from '../fixtures/files-api-origin.ts';

export const TEST_KEY = 'sk-ant-test-engine-key';

export interface Harness {
  origin: Origin;
  dataDir: string;
  events: DownloadEvent[];
  open(overrides?: Partial<ServiceOptions['engine']> & { readTimeoutMs?: number }, service?: Partial<ServiceOptions>): Promise<FilehaulService>;
  /** Downloads inputs with a fresh service and returns each outcome plus the archived bytes of the done ones. */
  get(inputs: string[], overrides?: Partial<ServiceOptions['engine']> & { readTimeoutMs?: number }, service?: Partial<ServiceOptions>): Promise<{ outcome: Awaited<ReturnType<FilehaulService['download']>> | { state: 'refused'; message: string }; bytes: Buffer | null }[]>;
  close(): Promise<void>;
}

export async function startHarness(originOptions: OriginOptions = {}): Promise<Harness> {
  const origin = await startOrigin({ apiKey: TEST_KEY, ...originOptions });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'filehaul-engine-'));
  const events: DownloadEvent[] = [];
  const open = async (overrides: Partial<ServiceOptions['engine']> & { readTimeoutMs?: number } = {}, serviceOverrides: Partial<ServiceOptions> = {}) => {
    const { readTimeoutMs, ...engine } = overrides;
    const service = await FilehaulService.open({
      ...DEFAULT_SERVICE_OPTIONS,
      dataDir,
      apiBase: origin.url,
      apiKey: TEST_KEY,
      readTimeoutMs: readTimeoutMs ?? 10_000,
      connectTimeoutMs: 5_000,
      // Budget and cool-down are tested on their own (traffic tests); here they only need to stay out of the way.
      requestsPerMinute: 600_000,
      cooldown: { initialMs: 20, maxMs: 100 },
      // Fast backoff keeps fault tests quick; the rules (full jitter, cap, Retry-After) are the same.
      engine: { ...DEFAULT_SERVICE_OPTIONS.engine, backoff: { baseMs: 5, capMs: 50, maxRetries: 5 }, confirmIntervalMs: 100, progressIntervalMs: 50, ...engine },
      ...serviceOverrides,
    });
    service.onEvent((event) => events.push(event));
    return service;
  };
  return {
    origin,
    dataDir,
    events,
    open,
    async get(inputs, overrides, serviceOverrides) {
      const service = await open(overrides, serviceOverrides);
      try {
        return await Promise.all(
          service.prepare(inputs).map(async (item) => {
            if ('error' in item) return { outcome: { state: 'refused' as const, message: item.error }, bytes: null };
            const outcome = await service.download(item.record, item.source);
            const bytes = outcome.state === 'done' ? readFileSync(path.join(dataDir, outcome.record.finalPath!)) : null;
            return { outcome, bytes };
          }),
        );
      } finally {
        await service.close();
      }
    },
    async close() {
      await origin.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Total body bytes the origin sent for one file across all requests. */
export function bytesSent(origin: Origin, fileId: string): number {
  return origin.contentRequests(fileId).reduce((sum, entry) => sum + entry.bytesSent, 0);
}
