// serviceOptions: the settings each door's flags, environment and config.ini end in, as the service receives them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommand, serviceOptions } from '../../src/main/cli/options.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function optionsFor(args: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'filehaul-options-'));
  dirs.push(dir);
  const warnings: string[] = [];
  const options = serviceOptions(parseCommand(['--dir', dir, ...args]).values, {}, (line) => warnings.push(line));
  return { options, warnings };
}

describe('serviceOptions', () => {
  it('hands the traffic settings to the service: cool-down, its threshold and the re-send floor', () => {
    const { options } = optionsFor(['--cooldown', '10', '--cooldown-max', '120', '--cooldown-after', '3', '--resend-after', '0']);
    expect(options.cooldown).toEqual({ initialMs: 10_000, maxMs: 120_000, openAfter: 3 });
    expect(options.engine.hedgeAfterMs).toBe(0);
  });

  it('defaults to the issue\'s 30 s doubling to 10 min, opened by 5 overloads in a row, and re-sends after 250 ms', () => {
    const { options } = optionsFor([]);
    expect(options.cooldown).toEqual({ initialMs: 30_000, maxMs: 600_000, openAfter: 5 });
    expect(options.engine.hedgeAfterMs).toBe(250);
  });

  it('never lets the longest cool-down be shorter than the first', () => {
    expect(optionsFor(['--cooldown', '60', '--cooldown-max', '10']).options.cooldown).toMatchObject({ initialMs: 60_000, maxMs: 60_000 });
  });
});
