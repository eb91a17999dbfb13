// Shared set-up for the archive command tests: a temp data dir, seeded archived files with manifests, and in-process command runs with captured output.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { DownloadRecord } from '../../src/shared/model.ts';
import { dataLayout, type DataLayout } from '../../src/main/archive/layout.ts';
import { archiveFinishedDownload, ManifestWriter } from '../../src/main/archive/manifest-writer.ts';
import type { CommandIo } from '../../src/main/cli/get.ts';
import { closeCatalog, openCatalog } from '../../src/main/store/database.ts';

/** The current test's data dir and its layout; set by `makeArchiveDir` (live bindings, so importers always see the current one). */
export let root: string;
export let layout: DataLayout;

/** For beforeEach: a fresh, empty data dir. */
export function makeArchiveDir(): void {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'filehaul-archive-cli-'));
  layout = dataLayout(root);
}

/** For afterEach: removes the data dir made by `makeArchiveDir`. */
export function removeArchiveDir(): void {
  fs.rmSync(root, { recursive: true, force: true });
}

export interface Seed {
  month: string;
  name: string;
  content: string;
  filename?: string;
  sourceKind?: 'files-api' | 'url';
  encrypted?: boolean;
}

export const SEEDS: Seed[] = [
  { month: '2025-03', name: 'report.pdf', content: 'the quarterly report' },
  { month: '2025-03', name: 'notes.txt', content: 'some notes, longer than the report itself', sourceKind: 'url' },
  { month: '2025-03', name: 'Ünïcode Résumé.txt', content: 'ü' },
  { month: '2025-03', name: 'evil_name.txt', content: 'x', filename: 'evil\u001b[2Jname.txt' },
  { month: '2025-04', name: 'data.csv', content: 'a,b\n1,2\n' },
  { month: '2025-04', name: 'photo.jpg', content: 'not really a jpeg' },
  { month: '2024-12', name: 'old.bin', content: 'old bytes' },
];

export const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

function record(seed: Seed, n: number): DownloadRecord {
  const url = seed.sourceKind === 'url';
  return {
    id: `dl_${n}`,
    sourceKind: url ? 'url' : 'files-api',
    sourceRef: url ? `https://example.com/${encodeURIComponent(seed.name)}` : `file_${n}`,
    apiBase: url ? null : 'https://api.anthropic.com',
    filename: seed.filename ?? seed.name,
    mimeType: url ? null : 'application/octet-stream',
    sizeBytes: Buffer.byteLength(seed.content),
    createdAt: `${seed.month}-10T12:00:00Z`,
    etag: url ? null : `"e${n}"`,
    lastModified: null,
    rangeSupported: true,
    state: 'done',
    error: null,
    addedAt: '2025-05-01T00:00:00.000Z',
    updatedAt: '2025-05-01T00:00:00.000Z',
    completedAt: `2025-05-01T00:00:${String(n).padStart(2, '0')}.000Z`,
    finalPath: `raw/${seed.month}/${seed.name}`,
    sha256: sha256(seed.content),
    restartCount: 0,
  };
}

/** Puts the seed files on disk and archives them the way a finished download is archived, manifests included. */
export async function seed(seeds: Seed[] = SEEDS): Promise<void> {
  const db = openCatalog(layout.dbPath);
  const writer = new ManifestWriter(db, layout, { debounceMs: 60_000 });
  try {
    seeds.forEach((s, n) => {
      fs.mkdirSync(path.join(layout.rawDir, s.month), { recursive: true });
      fs.writeFileSync(path.join(layout.rawDir, s.month, s.name), s.content);
      archiveFinishedDownload(db, writer, record(s, n), `raw/${s.month}/${s.name}`, s.encrypted ?? false);
    });
  } finally {
    await writer.close();
    closeCatalog(db);
  }
}

export function captureIo(): CommandIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text) => void (out += text), isTTY: false },
    stderr: { write: (text) => void (err += text), isTTY: false },
    onInterrupt: () => () => {},
    out: () => out,
    err: () => err,
  };
}

export async function run(command: (args: readonly string[], io: CommandIo) => Promise<number>, ...args: string[]) {
  const io = captureIo();
  const code = await command([...args, '--dir', root], io);
  return { code, out: io.out(), err: io.err() };
}

export async function runJson(command: (args: readonly string[], io: CommandIo) => Promise<number>, ...args: string[]) {
  const { code, out } = await run(command, ...args, '--json');
  expect(code).toBe(0);
  return JSON.parse(out);
}
