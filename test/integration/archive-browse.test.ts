// End-to-end tests of browsing the archive on a real data dir: months, ls and search, their usage errors, and the filehaul binary running them.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLs, runMonths } from '../../src/main/cli/archive-commands.ts';
import { main } from '../../src/main/cli/main.ts';
import { captureIo, layout, makeArchiveDir, removeArchiveDir, root, run, runJson, seed, sha256 } from './archive-harness.ts';
import { runCli } from './run-cli.ts';

beforeEach(makeArchiveDir);
afterEach(removeArchiveDir);

describe('months and ls', () => {
  it('lists months newest first and pages a month sorted three ways', async () => {
    await seed();
    expect((await run(runMonths)).out).toBe(
      ['2025-04           2 files        25 B', '2025-03           4 files        64 B', '2024-12            1 file         9 B', '3 months, 7 files, 98 B', ''].join('\n'),
    );
    const text = (await run(runLs)).out;
    expect(text.split('\n')[0]).toBe('2025-04: 2 files, sorted by name');
    expect(text).toContain('data.csv');
    expect(text).toContain('Showing 1-2 of 2\n');

    const byName = await runJson(runLs, '--month', '2025-03');
    expect(byName.entries.map((e: { filename: string }) => e.filename)).toEqual(['evil\u001b[2Jname.txt', 'notes.txt', 'report.pdf', 'Ünïcode Résumé.txt']);
    expect(byName.entries[2]).toEqual({
      month: '2025-03',
      file_id: 'file_0',
      filename: 'report.pdf',
      path: 'raw/2025-03/report.pdf',
      size_bytes: 20,
      sha256: sha256('the quarterly report'),
      mime_type: 'application/octet-stream',
      created_at: '2025-03-10T12:00:00Z',
      downloaded_at: '2025-05-01T00:00:00.000Z',
      source: 'files-api',
      url: null,
      etag: '"e0"',
      encrypted: false,
      download_id: 'dl_0',
    });
    const bySize = await runJson(runLs, '--month', '2025-03', '--sort', 'size');
    expect(bySize.entries.map((e: { filename: string }) => e.filename)[0]).toBe('notes.txt');
    const page = await run(runLs, '--month', '2025-03', '--limit', '1', '--offset', '1');
    expect(page.out).toContain('notes.txt');
    expect(page.out).toContain('Showing 2-2 of 4; next page: --offset 2');
    // A name with a terminal escape is shown escaped, with the safe name it has on disk.
    expect(byName.total).toBe(4);
    const plain = (await run(runLs, '--month', '2025-03')).out;
    expect(plain).not.toContain('\u001b');
    expect(plain).toContain('evil\\u001b[2Jname.txt  → raw/2025-03/evil_name.txt');
  });

  it('searches names across months and within one', async () => {
    await seed();
    const found = await runJson(runLs, '--search', 'RÉSUMÉ');
    expect(found).toMatchObject({ mode: 'substring', total: 1, total_exact: true });
    expect(found.entries[0].path).toBe('raw/2025-03/Ünïcode Résumé.txt');
    const prefix = await runJson(runLs, '--search', 'Re');
    expect(prefix.mode).toBe('prefix');
    expect(prefix.entries.map((e: { filename: string }) => e.filename)).toEqual(['report.pdf']);
    const inMonth = await runJson(runLs, '--search', 'a', '--month', '2025-04');
    expect(inMonth.entries.map((e: { filename: string }) => e.filename)).toEqual(['data.csv']);
    const text = (await run(runLs, '--search', '.txt')).out;
    expect(text.split('\n')[0]).toBe('Search ".txt" in all months: 3 matches (names containing it, newest first)');
    expect(text).toContain('2025-03 ');
  });

  it('says so when the archive is empty', async () => {
    expect((await run(runMonths)).out).toMatch(/^The archive in .* is empty\.\n$/);
    expect((await run(runLs)).out).toMatch(/is empty/);
    expect(await runJson(runLs)).toMatchObject({ month: null, total: 0, entries: [] });
  });

  it('turns bad options into usage errors (exit 2)', async () => {
    const io = captureIo();
    expect(await main(['ls', '--month', '2025-13', '--dir', root], io)).toBe(2);
    expect(await main(['ls', '--sort', 'colour', '--dir', root], io)).toBe(2);
    expect(await main(['ls', '--limit', '0', '--dir', root], io)).toBe(2);
    expect(await main(['verify', '--bogus', '--dir', root], io)).toBe(2);
    expect(await main(['months', 'extra', '--dir', root], io)).toBe(2);
    expect(io.err()).toContain('--month must be a month like 2025-03, got "2025-13"');
    expect(io.err()).toContain('--sort must be name, downloaded or size');
    expect(io.err()).toContain("Unknown option '--bogus'");
  });
});

describe('the filehaul binary', () => {
  it('runs the archive commands', async () => {
    await seed();
    const months = await runCli(['months', '--dir', root, '--json']);
    expect(months.code).toBe(0);
    expect(months.events.map((e) => e.month)).toEqual(['2025-04', '2025-03', '2024-12']);
    fs.rmSync(path.join(layout.rawDir, '2025-04', 'photo.jpg'));
    const verify = await runCli(['verify', '--dir', root]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('missing  raw/2025-04/photo.jpg');
  });
});
