// Shared helpers of the proof suite: an in-process service with fast retries, catalog checks, and directory snapshots.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import type { DownloadEvent } from '../../src/main/engine/events.ts';
import { DEFAULT_SERVICE_OPTIONS, FilehaulService, type ServiceOptions } from '../../src/main/service.ts';
import { killLeftoverChildren, type CliResult } from '../integration/run-cli.ts';

export const MiB = 1024 * 1024;
export const PROOF_KEY = 'sk-ant-proof-suite-key';

/** `PRAGMA integrity_check` of a catalog file, opened read-only so the check itself changes nothing. */
export function integrityCheck(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

/** The downloads table as plain rows (read-only). */
export function catalogRows(dbPath: string): Array<Record<string, unknown>> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM downloads ORDER BY added_at').all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

/** Every entry under `root` (relative path, kind, size), sorted: compare two to prove nothing was created, removed or grown. */
export function snapshotTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (entry.isDirectory()) {
        out.push(`${rel}/`);
        walk(full);
      } else {
        out.push(`${rel} ${entry.isFile() ? statSync(full).size : entry.isSymbolicLink() ? 'link' : 'other'}`);
      }
    }
  };
  walk(root);
  return out.sort();
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type EngineOverrides = Partial<ServiceOptions['engine']> & { readTimeoutMs?: number };

/** A service like the CLI's, but with millisecond backoff and confirms, so fault cases finish in a blink. */
export async function openProofService(dataDir: string, apiBase: string, overrides: EngineOverrides = {}): Promise<{ service: FilehaulService; events: DownloadEvent[] }> {
  const { readTimeoutMs, ...engine } = overrides;
  const service = await FilehaulService.open({
    ...DEFAULT_SERVICE_OPTIONS,
    dataDir,
    apiBase,
    apiKey: PROOF_KEY,
    readTimeoutMs: readTimeoutMs ?? 5_000,
    connectTimeoutMs: 2_000,
    requestsPerMinute: 600_000,
    cooldown: { initialMs: 20, maxMs: 100 },
    logs: false,
    engine: { ...DEFAULT_SERVICE_OPTIONS.engine, parallelFiles: 16, connections: 4, minSplitBytes: 256 * 1024, backoff: { baseMs: 5, capMs: 40, maxRetries: 4 }, confirmIntervalMs: 100, progressIntervalMs: 50, ...engine },
  });
  const events: DownloadEvent[] = [];
  service.onEvent((event) => events.push(event));
  return { service, events };
}

/** Whether this machine lets us mount a small tmpfs (root in a sandbox that allows it); tests that need one skip otherwise. */
export function canMountTmpfs(): { ok: boolean; why: string } {
  if (process.platform !== 'linux') return { ok: false, why: 'tmpfs mounts need Linux' };
  const probe = mkdtempSync(path.join(os.tmpdir(), 'filehaul-mount-probe-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { encoding: 'utf8' });
    if (mounted.status !== 0) return { ok: false, why: `mount is not permitted here: ${(mounted.stderr || mounted.error?.message || '').trim()}` };
    spawnSync('umount', [probe]);
    return { ok: true, why: '' };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Runs mount/umount and throws with their stderr when they fail. */
export function mountCommand(args: string[]): void {
  const result = spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr || result.error?.message}`);
}

/** A test file's cleanups: registered during a test, run in reverse after it, once any CLI child it left is killed. */
export function cleanupsAfterEach(): Array<() => Promise<void> | void> {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    await killLeftoverChildren();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** A CLI run in words for a failed assertion: exit, stderr and the last lines of stdout. */
export function explainRun(result: CliResult): string {
  return `exit ${result.code} signal ${result.signal}\nstderr:\n${result.stderr}\nstdout (last lines):\n${result.stdout.split('\n').slice(-8).join('\n')}`;
}
