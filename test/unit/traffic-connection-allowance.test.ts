// Connection allowance: halves once per burst of 429s, climbs back one step after a calm run, and never lets more requests open than allowed.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../fixtures/files-api-origin.ts';
import { ConnectionAllowance, type Release } from '../../src/main/engine/traffic/connection-allowance.ts';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';

function setup(max = 32) {
  const clock = new ManualClock();
  return { clock, allowance: new ConnectionAllowance({ max, clock }) };
}

describe('connection allowance (AIMD)', () => {
  it('halves once for a burst of 429s from parallel connections, again only after the window', async () => {
    const { clock, allowance } = setup(32);
    const halved = Array.from({ length: 8 }, () => allowance.on429());
    expect(halved.filter(Boolean)).toHaveLength(1);
    expect(allowance.limit).toBe(16);
    await clock.advance(999);
    expect(allowance.on429()).toBe(false);
    await clock.advance(1);
    expect(allowance.on429()).toBe(true);
    expect(allowance.limit).toBe(8);
  });

  it('stretches the window to a longer Retry-After, and never goes below one', async () => {
    const { clock, allowance } = setup(4);
    allowance.on429(5000);
    expect(allowance.limit).toBe(2);
    await clock.advance(4999);
    expect(allowance.on429()).toBe(false);
    await clock.advance(1);
    allowance.on429();
    await clock.advance(1000);
    allowance.on429();
    expect(allowance.limit).toBe(1);
  });

  it('climbs back by one only after both enough successes and ten calm seconds, one step at a time', async () => {
    const { clock, allowance } = setup(32);
    allowance.on429();
    for (let i = 0; i < 20; i++) allowance.onSuccess();
    // Many successes, but too soon after the decrease.
    expect(allowance.limit).toBe(16);
    await clock.advance(10_000);
    allowance.onSuccess();
    expect(allowance.limit).toBe(17);
    // Calm long enough, but the successes start over after each step.
    await clock.advance(10_000);
    for (let i = 0; i < 7; i++) allowance.onSuccess();
    expect(allowance.limit).toBe(17);
    allowance.onSuccess();
    expect(allowance.limit).toBe(18);
    for (let i = 0; i < 20; i++) allowance.onSuccess();
    expect(allowance.limit).toBe(18);
  });

  it('never climbs above its maximum', async () => {
    const { clock, allowance } = setup(2);
    allowance.on429();
    for (let round = 0; round < 5; round++) {
      await clock.advance(10_000);
      for (let i = 0; i < 8; i++) allowance.onSuccess();
    }
    expect(allowance.limit).toBe(2);
  });

  it('a 429 resets the run of successes', async () => {
    const { clock, allowance } = setup(8);
    allowance.on429();
    await clock.advance(10_000);
    for (let i = 0; i < 7; i++) allowance.onSuccess();
    await clock.advance(500);
    allowance.on429(); // inside no window any more: halves to 2
    await clock.advance(10_000);
    for (let i = 0; i < 7; i++) allowance.onSuccess();
    expect(allowance.limit).toBe(2);
    allowance.onSuccess();
    expect(allowance.limit).toBe(3);
  });

  it('does not cut running requests when the limit drops; new ones wait until enough have ended', async () => {
    const { allowance } = setup(8);
    const releases = await Promise.all(Array.from({ length: 8 }, () => allowance.acquire()));
    allowance.on429();
    expect(allowance.limit).toBe(4);
    expect(allowance.inUse).toBe(8);
    let admitted = false;
    const next = allowance.acquire().then((release) => {
      admitted = true;
      return release;
    });
    for (let i = 0; i < 4; i++) releases[i]();
    await Promise.resolve();
    expect(admitted).toBe(false);
    releases[4]();
    const release = await next;
    expect(admitted).toBe(true);
    expect(allowance.inUse).toBe(4);
    release();
    release(); // a second call is ignored
    expect(allowance.inUse).toBe(3);
  });

  it('never has more requests open than its limit, whatever the interleaving of 429s, successes and aborts', async () => {
    const { clock, allowance } = setup(12);
    const random = seededRandom(7);
    let maxSeen = 0;
    const open = new Set<Release>();
    const tasks = Array.from({ length: 200 }, async (_, index) => {
      await clock.sleep(Math.floor(random() * 20_000));
      const controller = new AbortController();
      if (index % 17 === 0) void clock.sleep(500).then(() => controller.abort(new Error('paused')));
      let release: Release;
      try {
        release = await allowance.acquire(controller.signal);
      } catch {
        return;
      }
      open.add(release);
      // Admission happens only below the limit (the count may sit above it only after a decrease).
      expect(allowance.inUse).toBeLessThanOrEqual(allowance.limit);
      maxSeen = Math.max(maxSeen, allowance.inUse);
      await clock.sleep(Math.floor(random() * 3000));
      if (random() < 0.1) allowance.on429();
      else allowance.onSuccess();
      open.delete(release);
      release();
    });
    let finished = false;
    const all = Promise.all(tasks).then(() => (finished = true));
    let lowestLimit = allowance.limit;
    let queued = 0;
    for (let step = 0; !finished && step < 10_000; step++) {
      await clock.advance(100);
      expect(allowance.inUse).toBe(open.size);
      lowestLimit = Math.min(lowestLimit, allowance.limit);
      queued = Math.max(queued, allowance.waiting);
    }
    await all;
    // The run really was contended and really saw the limit drop.
    expect(lowestLimit).toBeLessThan(12);
    expect(queued).toBeGreaterThan(0);
    expect(maxSeen).toBeLessThanOrEqual(12);
    expect(allowance.inUse).toBe(0);
    expect(allowance.waiting).toBe(0);
  });

  it('serves waiters in order and drops aborted ones', async () => {
    const { allowance } = setup(1);
    const first = await allowance.acquire();
    const order: string[] = [];
    const controller = new AbortController();
    const a = allowance.acquire().then((release) => (order.push('a'), release));
    const gone = allowance.acquire(controller.signal).catch(() => order.push('aborted'));
    const b = allowance.acquire().then((release) => (order.push('b'), release));
    controller.abort(new Error('cancelled'));
    await gone;
    first();
    (await a)();
    (await b)();
    expect(order).toEqual(['aborted', 'a', 'b']);
    expect(allowance.inUse).toBe(0);
  });
});
