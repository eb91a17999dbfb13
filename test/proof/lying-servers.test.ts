// Lying servers: each lie ends as one clear error for that file (or a clean restart where the rules say), never a wrong archived file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { filesUnder } from '../integration/run-cli.ts';
import { makeBytes } from '../fixtures/make-bytes.ts';
import { startLyingOrigin, type Lie, type LyingFile, type LyingOrigin } from '../fixtures/lying-origin.ts';
import { catalogRows, integrityCheck, MiB, openProofService, PROOF_KEY, tempDir, type EngineOverrides } from './proof-helpers.ts';

interface Case {
  name: string;
  lie: Lie;
  times?: number;
  metadataBody?: LyingFile['metadataBody'];
  /** 'failed' with this message, or 'done' byte-identical (after `restarts` clean restarts). */
  outcome: { state: 'failed'; message: RegExp; restarts?: number } | { state: 'done'; restarts?: number };
  overrides?: EngineOverrides;
}

const CASES: Case[] = [
  { name: 'a body shorter than announced, every time', lie: 'short-body', outcome: { state: 'failed', message: /gave up after \d+ retries: .*(closed|socket|terminated)/i } },
  { name: 'a body shorter than announced, twice', lie: 'short-body', times: 2, outcome: { state: 'done' } },
  { name: 'a 206 body longer than announced', lie: 'long-body', outcome: { state: 'done' } },
  { name: 'a 200 body longer than announced', lie: 'long-body-200', outcome: { state: 'done' } },
  { name: 'a 206 starting elsewhere than asked', lie: 'shifted-start', outcome: { state: 'failed', message: /gave up after \d+ retries: bad ranged response: 206 starts at byte \d+, asked for \d+/ } },
  { name: 'a total that disagrees with size_bytes', lie: 'wrong-total', outcome: { state: 'failed', message: /gave up after \d+ retries: bad ranged response: 206 says the file has \d+ bytes, expected \d+/ } },
  { name: 'a 206 without Content-Range', lie: 'no-content-range', outcome: { state: 'failed', message: /206 with an unreadable Content-Range \(null\)/ } },
  { name: 'a Content-Length that disagrees with Content-Range', lie: 'length-mismatch', outcome: { state: 'failed', message: /206 Content-Length \d+ disagrees with its Content-Range/ } },
  { name: '200 to a ranged resume, once (a clean restart)', lie: 'full-on-resume', times: 1, outcome: { state: 'done', restarts: 1 } },
  { name: '200 to every ranged resume (bounded restarts)', lie: 'full-on-resume', outcome: { state: 'failed', message: /gave up after 3 clean restarts: the remote file changed \(the server answered a resumed request with the whole file\)/, restarts: 4 } },
  { name: 'ETag and bytes changing on every request (bounded restarts)', lie: 'etag-churn', outcome: { state: 'failed', message: /gave up after 3 clean restarts: the remote file changed/, restarts: 4 } },
  { name: 'a garbage status line', lie: 'garbage-status', outcome: { state: 'failed', message: /gave up after \d+ retries: .*(HTTP|protocol|parse|status)/i } },
  { name: 'an HTML 502 page from a proxy', lie: 'html-502', outcome: { state: 'failed', message: /gave up after \d+ retries: HTTP 502: .*Bad Gateway/ } },
  { name: 'an HTML 403 page from a proxy', lie: 'html-403', outcome: { state: 'failed', message: /^HTTP 403: .*Forbidden/ } },
  { name: 'an HTML 200 page instead of the file', lie: 'html-200', outcome: { state: 'failed', message: /the server sends \d+ bytes but the file has \d+/ } },
  { name: 'response headers too large', lie: 'huge-headers', outcome: { state: 'failed', message: /gave up after \d+ retries: .*header/i } },
  { name: 'a server that accepts and never answers', lie: 'silent', outcome: { state: 'failed', message: /gave up after \d+ retries: .*timeout/i },
    // undici checks its timeouts on a coarse tick (about a second), so fewer retries keep this case short.
    overrides: { readTimeoutMs: 250, backoff: { baseMs: 5, capMs: 40, maxRetries: 1 } },
  },
  {
    name: 'HTML where the metadata JSON should be',
    lie: 'honest',
    metadataBody: { status: 200, contentType: 'text/html', body: '<html><body>Please sign in</body></html>' },
    outcome: { state: 'failed', message: /The metadata of \S+ is not JSON/ },
  },
  {
    name: 'metadata with size_bytes of the wrong type',
    lie: 'honest',
    metadataBody: { status: 200, contentType: 'application/json', body: JSON.stringify({ id: 'x', type: 'file', filename: 'x.bin', size_bytes: '1048576', created_at: '2025-01-01T00:00:00Z' }) },
    outcome: { state: 'failed', message: /The metadata of \S+ has no valid size_bytes \(got "1048576"\)/ },
  },
];

const HONEST_SIZE = 1 * MiB + 333;
const LIAR_SIZE = 1536 * 1024 + 77;
const CREATED = '2025-03-14T09:26:53Z';
const pad = (index: number) => String(index).padStart(2, '0');

const liars: LyingFile[] = CASES.map((c, index) => ({ id: `file_liar${pad(index)}`, bytes: makeBytes(LIAR_SIZE, 600 + index), filename: `liar-${index}.bin`, createdAt: CREATED, lie: c.lie, times: c.times, metadataBody: c.metadataBody }));
const honest: LyingFile[] = CASES.map((_, index) => ({ id: `file_honest${pad(index)}`, bytes: makeBytes(HONEST_SIZE, 700 + index), filename: `honest-${index}.bin`, createdAt: CREATED, lie: 'honest' }));
const everyFile = [...liars, ...honest];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshOrigin(): Promise<LyingOrigin> {
  // Lies told a limited number of times count per origin, so every test gets its own.
  const origin = await startLyingOrigin(everyFile);
  cleanups.push(() => origin.close());
  return origin;
}

/** Downloads `ids` in one run of one service; returns each outcome (by id), the events and the data dir. */
async function runTogether(origin: LyingOrigin, ids: string[], overrides?: EngineOverrides) {
  const temp = tempDir('filehaul-liar-');
  cleanups.push(temp.remove);
  const { service, events } = await openProofService(temp.dir, origin.url, overrides);
  try {
    const prepared = service.prepare(ids);
    const outcomes = await Promise.all(prepared.map((item) => ('error' in item ? Promise.reject(new Error(item.error)) : service.download(item.record, item.source))));
    return { outcomes: new Map(ids.map((id, index) => [id, outcomes[index]])), events, dataDir: temp.dir };
  } finally {
    await service.close();
  }
}

/** Every file under raw/ must be one of the originals, byte for byte: a lie may cost a file, never corrupt one. */
async function expectOnlyTrueFiles(dataDir: string): Promise<string[]> {
  const archived = await filesUnder(path.join(dataDir, 'raw'));
  for (const file of archived) {
    const original = everyFile.find((candidate) => candidate.filename === path.basename(file));
    expect(original, `unexpected archive file ${file}`).toBeDefined();
    expect(readFileSync(file).equals(original!.bytes), `${file} differs from the original`).toBe(true);
  }
  return archived.map((file) => path.relative(dataDir, file));
}

/** The liar's outcome is what its case says; the catalog agrees; restarts stay bounded. */
function expectCaseOutcome(spec: Case, liar: LyingFile, run: Awaited<ReturnType<typeof runTogether>>, archived: string[]): void {
  const outcome = run.outcomes.get(liar.id)!;
  const restarts = run.events.filter((event) => event.type === 'restart' && event.fileId === liar.id).length;
  if (spec.outcome.state === 'failed') {
    expect(outcome.state, `${spec.name}: ${JSON.stringify(outcome)}`).toBe('failed');
    const message = (outcome as { message: string }).message;
    expect(message).toMatch(spec.outcome.message);
    // One plain sentence: no stack trace, no line breaks, no key.
    expect(message).not.toMatch(/\n|\bat .+:\d+:\d+/);
    expect(message).not.toContain(PROOF_KEY);
    expect(archived).not.toContain(`raw/2025-03/${liar.filename}`);
    // The catalog says the same: failed, with the same sentence, so `filehaul status` tells the user why.
    expect(catalogRows(path.join(run.dataDir, 'filehaul.db')).find((row) => row.source_ref === liar.id)).toMatchObject({ state: 'failed', error: message });
  } else {
    expect(outcome.state, `${spec.name}: ${JSON.stringify(outcome)}`).toBe('done');
    expect(archived).toContain(`raw/2025-03/${liar.filename}`);
  }
  // Restarts are bounded: the rules allow 3, and a 4th restart event is the one that gives up.
  expect(restarts, spec.name).toBe(spec.outcome.restarts ?? 0);
}

describe('lying servers: one lie costs at most that file, never the archive', () => {
  it.each(CASES.map((c, index) => [c.name, index] as const))('%s', async (_name, index) => {
    const spec = CASES[index];
    const origin = await freshOrigin();
    // The liar and an honest file in the same run, sharing the endpoint, its budget and its connections.
    const run = await runTogether(origin, [liars[index].id, honest[index].id], spec.overrides);
    expect(run.outcomes.get(honest[index].id)!.state).toBe('done');
    const archived = await expectOnlyTrueFiles(run.dataDir);
    expect(archived).toContain(`raw/2025-03/${honest[index].filename}`);
    expectCaseOutcome(spec, liars[index], run, archived);
    expect(integrityCheck(path.join(run.dataDir, 'filehaul.db'))).toBe('ok');
  });

  it('every liar at once, beside honest files: each liar ends as its own case says and every honest file completes', async () => {
    const origin = await freshOrigin();
    const ids = CASES.flatMap((_, index) => [liars[index].id, honest[index].id]);
    // Read timeout 1.5 s: short for the silent liar, long enough for 38 honest answers on a busy machine (500 ms was
    // not: with the suite's other workers and another process on 2 cores the loop was held that long, and a liar
    // that answers at once ended with "Headers Timeout Error" instead of its own error).
    const run = await runTogether(origin, ids, { readTimeoutMs: 1500, parallelFiles: ids.length, backoff: { baseMs: 5, capMs: 40, maxRetries: 2 } });
    const archived = await expectOnlyTrueFiles(run.dataDir);
    for (const file of honest) {
      expect(run.outcomes.get(file.id)!.state, file.id).toBe('done');
      expect(archived).toContain(`raw/2025-03/${file.filename}`);
    }
    CASES.forEach((spec, index) => expectCaseOutcome(spec, liars[index], run, archived));
    expect(integrityCheck(path.join(run.dataDir, 'filehaul.db'))).toBe('ok');
  });
});
