// The space watch's decisions with a fake statfs and a hand-driven clock: who resumes, when, and that it stops when nothing waits.
import { describe, expect, it } from 'vitest';
import { chooseResumable, pausedForSpace, SPACE_WAIT_PREFIX, spaceWaitMessage, StorageWatch, type SpaceCheck } from '../../src/main/engine/storage-watch.ts';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';

const MiB = 1024 * 1024;
const INTERVAL = 2000;
const MARGIN = 3 * MiB;

/** A watch over a disk whose free space the test sets by hand. */
function fakeDisk(initialFree: number) {
  const clock = new ManualClock();
  const disk = { free: initialFree, probes: 0, failing: false, reserves: 0 };
  const watch = new StorageWatch({
    dir: '/data',
    clock,
    intervalMs: INTERVAL,
    marginBytes: MARGIN,
    freeBytes: async () => {
      disk.probes++;
      if (disk.failing) throw Object.assign(new Error('statfs failed'), { code: 'EIO' });
      return disk.free;
    },
    beforeResume: async () => {
      disk.reserves++;
    },
  });
  return { clock, disk, watch };
}

/** Records how a wait ended, so the test can look without awaiting a promise that may never settle. */
function track(promise: Promise<boolean>): { result: boolean | null } {
  const state = { result: null as boolean | null };
  void promise.then((resumed) => (state.result = resumed));
  return state;
}

describe('chooseResumable', () => {
  it('keeps the margin once and gives each download its own share, in the order they began waiting', () => {
    const waiters = [
      { id: 'a', bytes: 6 * MiB },
      { id: 'b', bytes: 5 * MiB },
      { id: 'c', bytes: 1 * MiB },
    ];
    expect(chooseResumable(waiters, 2 * MiB, MARGIN)).toEqual([]);
    expect(chooseResumable(waiters, 9 * MiB, MARGIN)).toEqual(['a']);
    // b does not fit beside a, but the smaller c does.
    expect(chooseResumable(waiters, 10 * MiB, MARGIN)).toEqual(['a', 'c']);
    expect(chooseResumable(waiters, 15 * MiB, MARGIN)).toEqual(['a', 'b', 'c']);
    // Exactly enough is enough.
    expect(chooseResumable([{ id: 'x', bytes: MiB }], MiB + MARGIN, MARGIN)).toEqual(['x']);
    expect(chooseResumable([{ id: 'x', bytes: MiB }], MiB + MARGIN - 1, MARGIN)).toEqual([]);
  });
});

describe('StorageWatch', () => {
  it('says at once what is needed and free, holds while the disk is full, and lets go once space covers the need plus the margin', async () => {
    const { clock, disk, watch } = fakeDisk(1 * MiB);
    const checks: SpaceCheck[] = [];
    const wait = track(watch.wait('dl_1', 10 * MiB, { onCheck: (check) => checks.push(check) }));
    await clock.settle();
    expect(checks).toEqual([{ neededBytes: 13 * MiB, freeBytes: 1 * MiB }]);
    expect(watch.active).toBe(true);

    await clock.advance(INTERVAL * 3);
    expect(wait.result).toBeNull();
    expect(checks.length).toBeGreaterThanOrEqual(4);
    expect(disk.reserves).toBe(0);

    disk.free = 13 * MiB - 1;
    await clock.advance(INTERVAL);
    expect(wait.result).toBeNull();

    disk.free = 13 * MiB;
    await clock.advance(INTERVAL);
    expect(wait.result).toBe(true);
    // The reserve is recreated before anything resumes, once per round.
    expect(disk.reserves).toBe(1);
    // Nothing waits: the watch stops checking and leaves no timer behind.
    await clock.settle();
    expect(watch.active).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    const probes = disk.probes;
    await clock.advance(INTERVAL * 10);
    expect(disk.probes).toBe(probes);
  });

  it('never lets go before the first interval, even when space looks free at once (the reserve just freed, a quota statfs cannot see)', async () => {
    const { clock, watch } = fakeDisk(100 * MiB);
    const wait = track(watch.wait('dl_1', MiB));
    await clock.settle();
    expect(wait.result).toBeNull();
    await clock.advance(INTERVAL);
    expect(wait.result).toBe(true);
  });

  it('a withdrawn download (the user paused it) is never let go, and the watch stops when it was the last', async () => {
    const { clock, disk, watch } = fakeDisk(0);
    const paused = new AbortController();
    const wait = track(watch.wait('dl_user', MiB, { signal: paused.signal }));
    await clock.advance(INTERVAL);
    paused.abort();
    await clock.settle();
    expect(wait.result).toBe(false);
    disk.free = 1000 * MiB;
    await clock.advance(INTERVAL * 5);
    expect(wait.result).toBe(false);
    expect(disk.reserves).toBe(0);
    expect(watch.active).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    // Already aborted: not even counted.
    expect(await watch.wait('dl_late', MiB, { signal: paused.signal })).toBe(false);
    expect(watch.waitingCount).toBe(0);
  });

  it('shares free space between downloads: only as many go as fit, the rest keep waiting', async () => {
    const { clock, disk, watch } = fakeDisk(0);
    const big = track(watch.wait('big', 20 * MiB));
    const small = track(watch.wait('small', 2 * MiB));
    const medium = track(watch.wait('medium', 4 * MiB));
    disk.free = MARGIN + 6 * MiB;
    await clock.advance(INTERVAL);
    expect([big.result, small.result, medium.result]).toEqual([null, true, true]);
    expect(watch.waitingCount).toBe(1);
    disk.free = MARGIN + 20 * MiB;
    await clock.advance(INTERVAL);
    expect(big.result).toBe(true);
  });

  it('holds a download back for minWaitMs even with room (one that bounced straight back off the disk)', async () => {
    const { clock, watch } = fakeDisk(100 * MiB);
    const wait = track(watch.wait('dl_1', MiB, { minWaitMs: INTERVAL * 4 }));
    await clock.advance(INTERVAL * 3);
    expect(wait.result).toBeNull();
    await clock.advance(INTERVAL);
    expect(wait.result).toBe(true);
  });

  it('a failed statfs decides nothing: the download keeps waiting and the next good reading counts', async () => {
    const { clock, disk, watch } = fakeDisk(100 * MiB);
    disk.failing = true;
    const wait = track(watch.wait('dl_1', MiB));
    await clock.advance(INTERVAL * 3);
    expect(wait.result).toBeNull();
    disk.failing = false;
    await clock.advance(INTERVAL);
    expect(wait.result).toBe(true);
  });

  it('close() lets every waiting download go as not resumed', async () => {
    const { clock, watch } = fakeDisk(0);
    const first = track(watch.wait('a', MiB));
    const second = track(watch.wait('b', MiB));
    watch.close();
    await clock.settle();
    expect([first.result, second.result]).toEqual([false, false]);
    expect(watch.active).toBe(false);
  });
});

describe('what waits for space', () => {
  it('only a full disk (ENOSPC), never a user pause, a quota or a read-only disk', () => {
    const full = 'cannot write the part file (ENOSPC): the disk is full: it goes on once space is freed (a stopped run resumes with the same command)';
    expect(pausedForSpace({ state: 'paused', message: full })).toBe(true);
    expect(pausedForSpace({ state: 'paused' })).toBe(false);
    expect(pausedForSpace({ state: 'paused', message: 'cannot write the part file (EDQUOT): the disk quota is used up' })).toBe(false);
    expect(pausedForSpace({ state: 'paused', message: 'cannot write the part file (EROFS): read-only' })).toBe(false);
    expect(pausedForSpace({ state: 'failed', message: full })).toBe(false);
    // A code, when the run reports one, decides over the words.
    expect(pausedForSpace({ state: 'paused', message: full, code: 'EIO' })).toBe(false);
    expect(pausedForSpace({ state: 'paused', message: 'disk full', code: 'ENOSPC' })).toBe(true);
  });

  it('the message says it waits, how much it needs, how much is free, and that it goes on by itself', () => {
    const message = spaceWaitMessage({ neededBytes: 13 * MiB, freeBytes: 512 * 1024 }, '/srv/data');
    expect(message.startsWith(SPACE_WAIT_PREFIX)).toBe(true);
    expect(message).toBe('waiting for disk space in /srv/data: needs 13.0 MiB free, 512.0 KiB free now; resumes by itself once there is room');
  });
});
