// Database trouble: a locked, deleted or corrupted filehaul.db under the real command line — clear words, and nothing lost.
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { makeBytes, startOrigin, type Origin, type OriginFile } from '../fixtures/files-api-origin.ts';
import { filesUnder, runCli, startCli } from '../integration/run-cli.ts';
import type { DownloadEvent } from '../../src/main/engine/events.ts';
import { DEFAULT_SERVICE_OPTIONS, FilehaulService } from '../../src/main/service.ts';
import { catalogRows, cleanupsAfterEach, explainRun, integrityCheck, MiB, PROOF_KEY, tempDir } from './proof-helpers.ts';

const KEY = 'sk-ant-proof-database';
const ENV = { ANTHROPIC_API_KEY: KEY };
const CREATED = '2025-02-10T08:00:00Z';

const cleanups = cleanupsAfterEach();

async function setup(files: OriginFile[], rate?: number): Promise<{ origin: Origin; dataDir: string; db: string; get: (id: string) => string[] }> {
  const origin = await startOrigin({ apiKey: KEY, files, bytesPerSecondPerConnection: rate });
  cleanups.push(() => origin.close());
  const temp = tempDir('filehaul-db-');
  cleanups.push(temp.remove);
  const dataDir = path.join(temp.dir, 'data');
  return { origin, dataDir, db: path.join(dataDir, 'filehaul.db'), get: (id) => ['get', id, '--dir', dataDir, '--api-base', origin.url, '--json', '--connections', '4'] };
}

function file(id: string, seed: number, size = 1 * MiB): OriginFile {
  return { id, filename: `${id.slice(5)}.bin`, bytes: makeBytes(size, seed), createdAt: CREATED };
}

/**
 * A service in this process whose catalog another connection locks (BEGIN IMMEDIATE) the moment a download starts
 * verifying, exactly between its last byte and its commit; `unlock` ends that transaction.
 */
async function lockedAtFinalize(file: OriginFile, catalogLockWaitMs?: number) {
  const origin = await startOrigin({ apiKey: PROOF_KEY, files: [file], bytesPerSecondPerConnection: 1024 * 1024 });
  cleanups.push(() => origin.close());
  const temp = tempDir('filehaul-db-');
  cleanups.push(temp.remove);
  const dataDir = path.join(temp.dir, 'data');
  const service = await FilehaulService.open({
    ...DEFAULT_SERVICE_OPTIONS,
    dataDir,
    apiBase: origin.url,
    apiKey: PROOF_KEY,
    logs: false,
    requestsPerMinute: 600_000,
    catalogLockWaitMs,
    engine: { ...DEFAULT_SERVICE_OPTIONS.engine, connections: 4, confirmIntervalMs: 100, progressIntervalMs: 50 },
  });
  cleanups.push(() => service.close());
  const db = path.join(dataDir, 'filehaul.db');
  // Another process as far as SQLite is concerned: its own connection, its own lock.
  const locker = new Database(db);
  cleanups.push(() => void (locker.open && (locker.inTransaction && locker.exec('ROLLBACK'), locker.close())));
  const events: DownloadEvent[] = [];
  const lock = { at: 0, releasedAt: 0 };
  const locked = new Promise<void>((resolve) => {
    service.onEvent((event) => {
      events.push(event);
      if (event.type === 'state' && event.state === 'verifying' && lock.at === 0) {
        // Synchronously, inside the event: the download cannot have reached its commit yet.
        locker.exec('BEGIN IMMEDIATE');
        lock.at = Date.now();
        resolve();
      }
    });
  });
  const unlock = () => {
    locker.exec('COMMIT');
    lock.releasedAt = Date.now();
  };
  const [item] = service.prepare([file.id]);
  if ('error' in item) throw new Error(item.error);
  return { origin, dataDir, db, service, events, lock, locked, unlock, item };
}

function removeCatalog(db: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
}

async function archived(dataDir: string): Promise<string[]> {
  return (await filesUnder(path.join(dataDir, 'raw'))).map((each) => path.relative(dataDir, each));
}

describe('database trouble', () => {
  it('a catalog locked by another process: one clear line, no request made; the same command works once the lock goes', async () => {
    const first = file('file_011LockFirst', 401);
    const second = file('file_011LockSecond', 402);
    const { origin, dataDir, db, get } = await setup([first, second]);
    expect((await runCli(get(first.id), { env: ENV })).code).toBe(0);

    // Another process (this one) holds an EXCLUSIVE transaction: readers go on, writers wait busy_timeout, then give up.
    const locker = new Database(db);
    cleanups.push(() => void (locker.open && locker.close()));
    locker.exec('BEGIN EXCLUSIVE');
    const locked = await runCli(get(second.id), { env: ENV });
    expect(locked.code, explainRun(locked)).toBe(1);
    expect(locked.stderr).not.toMatch(/SqliteError|\n\s+at /);
    expect(locked.stderrLines, explainRun(locked)).toHaveLength(1);
    expect(locked.stderrLines[0]).toMatch(new RegExp(`^filehaul: ${second.id}: .*locked`, 'i'));
    expect(origin.contentRequests(second.id)).toEqual([]);
    locker.exec('COMMIT');
    locker.close();

    const later = await runCli(get(second.id), { env: ENV });
    expect(later.code, explainRun(later)).toBe(0);
    expect(readFileSync(path.join(dataDir, 'raw/2025-02', second.filename)).equals(second.bytes)).toBe(true);
    expect(await archived(dataDir)).toHaveLength(2);
    expect(integrityCheck(db)).toBe('ok');
  });

  // Found while building issue 6: a catalog locked longer than busy_timeout (5 s) just as a download finished made its
  // commit throw SQLITE_BUSY, and the finished, verified download failed. Now finalize waits for the lock without
  // blocking and holds it until its commit; progress records that meet the lock are written with the next one.
  it('a catalog locked by another process past busy_timeout while a download finalizes: it waits for the lock and records the file', async () => {
    const big = file('file_011LockAtFinalize', 407, 2 * MiB);
    const { dataDir, db, service, events, lock, locked, unlock, item } = await lockedAtFinalize(big);
    const outcome = service.download(item.record, item.source);
    await locked;
    // Held well past busy_timeout (5 s), then let go, as a long reindex or another process's transaction would.
    const released = new Promise<void>((resolve) => setTimeout(() => resolve(unlock()), 7000));
    const result = await outcome;
    await released;
    expect(result.state, JSON.stringify(result)).toBe('done');
    expect(lock.releasedAt - lock.at).toBeGreaterThan(5000);
    const done = events.find((event) => event.type === 'done');
    expect(done?.timestamp).toBeGreaterThanOrEqual(lock.releasedAt);
    expect(events.filter((event) => event.type === 'error')).toEqual([]);
    expect(readFileSync(path.join(dataDir, 'raw/2025-02', big.filename)).equals(big.bytes)).toBe(true);
    expect(catalogRows(db)[0]).toMatchObject({ state: 'done', error: null, final_path: `raw/2025-02/${big.filename}` });
    expect(integrityCheck(db)).toBe('ok');
  });

  it('a catalog that stays locked past the wait: the download says so plainly, archives nothing, and records the kept file once the lock goes', async () => {
    const big = file('file_011LockGivesUp', 408, 1 * MiB);
    const { origin, dataDir, db, service, events, locked, unlock, item } = await lockedAtFinalize(big, 1000);
    const outcome = service.download(item.record, item.source);
    await locked;
    const result = await outcome;
    expect(result.state).toBe('failed');
    expect(result.state === 'failed' && result.message).toBe(`the catalog stayed locked by another process for 1 s, so the finished file ${big.filename} could not be recorded yet; it is kept, and the same command records it once the catalog is free`);
    expect(events.filter((event) => event.type === 'done')).toEqual([]);
    // Nothing entered the archive without its record; the verified part file is kept for the next run.
    expect(await archived(dataDir)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'tmp', `${item.record.id}.part`))).toBe(true);

    unlock();
    const requests = origin.contentRequests(big.id).length;
    const again = await service.download(item.record, item.source);
    expect(again.state).toBe('done');
    // Recorded from the kept part file: not one byte fetched again.
    expect(origin.contentRequests(big.id)).toHaveLength(requests);
    expect(readFileSync(path.join(dataDir, 'raw/2025-02', big.filename)).equals(big.bytes)).toBe(true);
    expect(catalogRows(db)[0]).toMatchObject({ state: 'done', error: null });
    expect(integrityCheck(db)).toBe('ok');
  });

  it('a catalog deleted between runs: the same command starts over and finishes byte-identical', async () => {
    const big = file('file_011CatalogGone', 403, 3 * MiB);
    const { dataDir, db, get } = await setup([big], 512 * 1024);
    const first = startCli(get(big.id), { env: ENV });
    await first.waitForEvent((event) => event.event === 'progress' && (event.bytes_downloaded as number) >= 1 * MiB);
    first.kill('SIGKILL');
    await first.exited;
    removeCatalog(db);

    const again = await runCli(get(big.id), { env: ENV });
    expect(again.code, explainRun(again)).toBe(0);
    // Nothing to resume from: the offsets lived in the catalog, so the run starts at zero (and must not trust the old part).
    expect(again.events.find((event) => event.event === 'start')?.bytes_downloaded).toBe(0);
    expect(readFileSync(path.join(dataDir, 'raw/2025-02', big.filename)).equals(big.bytes)).toBe(true);
    expect(integrityCheck(db)).toBe('ok');
  });

  // Found by this suite (a disk leak): a part file and a dead pid's lock that no catalog row names any more were never
  // removed. Now they go at startup. (tmp/.reserve is the disk space Filehaul holds back on purpose.)
  it('a catalog deleted between runs leaves no orphaned part or lock file behind', async () => {
    const big = file('file_011OrphanPart', 406, 2 * MiB);
    const { dataDir, db, get } = await setup([big], 512 * 1024);
    const first = startCli(get(big.id), { env: ENV });
    await first.waitForEvent((event) => event.event === 'progress' && (event.bytes_downloaded as number) > 0);
    first.kill('SIGKILL');
    await first.exited;
    removeCatalog(db);
    const again = await runCli(get(big.id), { env: ENV });
    expect(again.code, explainRun(again)).toBe(0);
    expect((await filesUnder(path.join(dataDir, 'tmp'))).filter((name) => !name.endsWith('.reserve'))).toEqual([]);
  });

  // Found by this suite: after filehaul.db was lost, get downloaded an archived file again as "name (2).bin" and the
  // manifest rewrite dropped the original entry. Now a catalog created while manifests exist is rebuilt from them first.
  it('a catalog deleted after a download: get does not fetch the file again nor drop it from its manifest', async () => {
    const small = file('file_011LostCatalog', 404);
    const { origin, dataDir, db, get } = await setup([small]);
    expect((await runCli(get(small.id), { env: ENV })).code).toBe(0);
    const manifest = path.join(dataDir, 'meta', '2025-02.json');
    expect(readFileSync(manifest, 'utf8')).toContain(small.id);
    const requests = origin.contentRequests(small.id).length;
    removeCatalog(db);

    const again = await runCli(get(small.id), { env: ENV });
    expect(again.code, explainRun(again)).toBe(0);
    expect(readFileSync(manifest, 'utf8')).toContain(`raw/2025-02/${small.filename}`);
    expect(await archived(dataDir)).toEqual([`raw/2025-02/${small.filename}`]);
    expect(origin.contentRequests(small.id)).toHaveLength(requests);
  });

  it('a corrupted catalog: one line saying what to do, and doing it (move aside, reindex) restores the archive; get then does nothing', async () => {
    const kept = file('file_011Corrupted', 405);
    const { origin, dataDir, db, get } = await setup([kept]);
    expect((await runCli(get(kept.id), { env: ENV })).code).toBe(0);
    // Clobber the header: SQLite no longer recognises the file (a bad disk block, a stray write, a half-copied backup).
    const handle = openSync(db, 'r+');
    writeSync(handle, Buffer.from('this is not the sqlite header you are looking for, nor its page size.......................'), 0, undefined, 0);
    closeSync(handle);

    const advice = new RegExp(`^filehaul: The catalog at ${db} is not a readable Filehaul database \\(.+\\)\\. Move it aside and run \`filehaul reindex\` to rebuild it\\.$`);
    for (const args of [get(kept.id), ['status', '--dir', dataDir], ['reindex', '--dir', dataDir]]) {
      const refused = await runCli(args, { env: ENV });
      expect(refused.code, explainRun(refused)).toBe(1);
      expect(refused.stderrLines, explainRun(refused)).toHaveLength(1);
      expect(refused.stderrLines[0]).toMatch(advice);
    }
    expect(await archived(dataDir)).toEqual([`raw/2025-02/${kept.filename}`]);

    renameSync(db, `${db}.corrupt`);
    const reindexed = await runCli(['reindex', '--dir', dataDir, '--json']);
    expect(reindexed.code, explainRun(reindexed)).toBe(0);
    expect(reindexed.events[0]).toMatchObject({ entries: 1, fromManifests: 1, unmanifested: [], missingFiles: [] });
    const listing = await runCli(['ls', '--dir', dataDir, '--month', '2025-02', '--json']);
    const entries = listing.events[0].entries as Array<Record<string, unknown>>;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ file_id: kept.id, path: `raw/2025-02/${kept.filename}`, size_bytes: kept.bytes.length });

    const requests = origin.contentRequests(kept.id).length;
    const again = await runCli(get(kept.id), { env: ENV });
    expect(again.code, explainRun(again)).toBe(0);
    expect(again.events.at(-1)).toMatchObject({ event: 'done', already_archived: true });
    expect(origin.contentRequests(kept.id)).toHaveLength(requests);
    expect(await archived(dataDir)).toEqual([`raw/2025-02/${kept.filename}`]);
    expect(integrityCheck(db)).toBe('ok');
  });
});
