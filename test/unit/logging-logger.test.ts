// Tests for logger.ts: JSON lines in logs/filehaul.log, size rotation keeping K files, and a planted key in no byte under logs/.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { logDownloadEvent, logRequestOutcome } from '../../src/main/logging/event-log.ts';
import { addLogSecret, closeLogger, createLogger } from '../../src/main/logging/logger.ts';

const PLANTED_KEY = 'sk-ant-api03-PLANTED-logging-key-0123456789abcdef';

let root: string;
let logsDir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-logging-'));
  logsDir = path.join(root, 'logs');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path.join(logsDir, file), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((line) => JSON.parse(line));
}

/** Every byte of every file under logs/, as one string. */
async function allLogBytes(): Promise<string> {
  const names = await readdir(logsDir);
  const contents = await Promise.all(names.map((name) => readFile(path.join(logsDir, name), 'latin1')));
  return contents.join('\n');
}

describe('createLogger', () => {
  it('writes JSON lines with an ISO timestamp and a level name into logs/filehaul.log', async () => {
    const logger = createLogger(logsDir);
    logger.info({ file_id: 'file_1' }, 'hello');
    logger.debug('not at info level');
    logger.warn('careful');
    closeLogger(logger);
    const lines = await readLines('filehaul.log');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', file_id: 'file_1', msg: 'hello' });
    expect(new Date(lines[0].timestamp as string).toISOString()).toBe(lines[0].timestamp);
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'careful' });
  });

  it('honours the level option', async () => {
    const logger = createLogger(logsDir, { level: 'debug' });
    logger.debug('now visible');
    closeLogger(logger);
    expect(await readLines('filehaul.log')).toMatchObject([{ level: 'debug', msg: 'now visible' }]);
  });

  it('rotates by size: filehaul.log → filehaul.1.log …, keeping K rotated files, never splitting a line', async () => {
    const maxBytes = 2000;
    const logger = createLogger(logsDir, { maxBytes, keep: 3 });
    const total = 200;
    for (let index = 0; index < total; index++) logger.info({ index, padding: 'x'.repeat(40) }, 'line');
    closeLogger(logger);
    expect((await readdir(logsDir)).sort()).toEqual(['filehaul.1.log', 'filehaul.2.log', 'filehaul.3.log', 'filehaul.log']);
    const files = ['filehaul.3.log', 'filehaul.2.log', 'filehaul.1.log', 'filehaul.log'];
    const indexes: number[] = [];
    for (const file of files) {
      expect((await stat(path.join(logsDir, file))).size).toBeLessThanOrEqual(maxBytes);
      indexes.push(...(await readLines(file)).map((line) => line.index as number));
    }
    // Oldest to newest, contiguous, ending with the last line logged: rotation lost nothing it kept.
    expect(indexes.at(-1)).toBe(total - 1);
    expect(indexes).toEqual(indexes.map((_, position) => indexes[0] + position));
    expect(indexes[0]).toBeGreaterThan(0);
  });

  it('keeps appending to an existing log across runs and rotates from its current size', async () => {
    const first = createLogger(logsDir, { maxBytes: 400 });
    first.info('first run');
    closeLogger(first);
    const second = createLogger(logsDir, { maxBytes: 400 });
    second.info({ padding: 'y'.repeat(300) }, 'second run');
    closeLogger(second);
    expect(await readLines('filehaul.1.log')).toMatchObject([{ msg: 'first run' }]);
    expect(await readLines('filehaul.log')).toMatchObject([{ msg: 'second run' }]);
  });

  it('closeLogger is idempotent and later lines are dropped, not thrown', () => {
    const logger = createLogger(logsDir);
    closeLogger(logger);
    closeLogger(logger);
    expect(() => logger.info('after close')).not.toThrow();
  });

  it('redacts fields named apiKey, x-api-key and authorization even without a secret to scrub', async () => {
    const logger = createLogger(logsDir);
    logger.info({ apiKey: 'visible-1', request: { headers: { 'x-api-key': 'visible-2', authorization: 'Bearer visible-3' } }, options: { apiKey: 'visible-4' }, authorization: 'visible-5' }, 'fields');
    closeLogger(logger);
    const text = await allLogBytes();
    for (const leaked of ['visible-1', 'visible-2', 'visible-3', 'visible-4', 'visible-5']) expect(text).not.toContain(leaked);
    expect(text).toContain('[redacted]');
  });

  it('a planted key appears in no byte under logs/, wherever it hides (messages, errors, URLs, nested fields, rotated files)', async () => {
    const logger = createLogger(logsDir, { secrets: [PLANTED_KEY], maxBytes: 1500, keep: 10 });
    logger.info(`message with ${PLANTED_KEY} inside`);
    logger.error({ err: new Error(`401 for key ${PLANTED_KEY}`) }, 'request failed');
    logger.warn({ detail: { deeper: { text: `x${PLANTED_KEY}y` } }, list: [PLANTED_KEY] }, 'nested');
    logger.child({ bound: PLANTED_KEY }).info('child logger');
    logDownloadEvent(logger, { type: 'error', downloadId: 'd1', fileId: 'file_1', timestamp: Date.now(), message: `invalid x-api-key ${PLANTED_KEY}`, bytesDownloaded: 0, durationMs: 5, retryCount: 0 });
    logDownloadEvent(logger, { type: 'state', downloadId: 'd1', fileId: 'file_1', timestamp: Date.now(), state: 'failed', error: `key ${PLANTED_KEY} refused` });
    logRequestOutcome(logger, { url: `https://api.example/v1/files/f/content?key=${PLANTED_KEY}`, endpoint: 'https://api.example', status: 401, requestId: 'req_1', range: null, durationMs: 3, bytes: 0, error: `echoed ${PLANTED_KEY}` });
    // JSON escaping must not let a variant through: a key with a quote and a backslash is scrubbed in its escaped form too.
    const oddKey = 'odd"key\\with-escapes-0000';
    addLogSecret(logger, oddKey);
    logger.info({ value: oddKey }, 'odd');
    for (let index = 0; index < 30; index++) logger.info({ index }, `filler ${PLANTED_KEY}`);
    closeLogger(logger);
    const names = await readdir(logsDir);
    expect(names.length).toBeGreaterThan(1);
    const text = await allLogBytes();
    expect(text).not.toContain(PLANTED_KEY);
    expect(text).not.toContain(JSON.stringify(oddKey).slice(1, -1));
    expect(text).not.toContain('PLANTED');
    // Scrubbing keeps every line valid JSON.
    for (const name of names) await readLines(name);
  });
});

describe('createLogger before pino has loaded', () => {
  it('writes a line queued before pino loaded with the time it was logged, not the time it was written', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const loggedAt = Date.UTC(2026, 0, 2, 3, 4, 5);
      vi.setSystemTime(loggedAt);
      const logger = createLogger(logsDir);
      logger.child({ download_id: 'd1' }).info({ file_id: 'file_1' }, 'queued');
      vi.setSystemTime(loggedAt + 60_000);
      closeLogger(logger);
      expect(await readLines('filehaul.log')).toEqual([
        expect.objectContaining({ msg: 'queued', file_id: 'file_1', download_id: 'd1', timestamp: new Date(loggedAt).toISOString() }),
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('still writes the queued lines of a process that exits without closing the log, and loads no pino when nothing was logged', async () => {
    const loggerUrl = new URL('../../src/main/logging/logger.ts', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      const { closeLogger, createLogger } = await import(${JSON.stringify(loggerUrl)});
      const quiet = createLogger(process.argv[1] + '/quiet');
      closeLogger(quiet);
      const pinoLoaded = Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('/node_modules/pino/'));
      process.stdout.write(JSON.stringify({ pinoLoaded }));
      createLogger(process.argv[1]).warn({ file_id: 'file_9' }, 'logged just before exit');
      process.exit(3);
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, logsDir], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(3);
    expect(JSON.parse(child.stdout)).toEqual({ pinoLoaded: false });
    expect(await readLines('filehaul.log')).toEqual([expect.objectContaining({ level: 'warn', msg: 'logged just before exit', file_id: 'file_9' })]);
  });
});
