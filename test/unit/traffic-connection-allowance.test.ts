// Connection allowance: halves once per loss episode of 429s, climbs back one step per allowance's worth of successes, and never lets more requests open than allowed.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../fixtures/files-api-origin.ts';
import { ConnectionAllowance, type Release } from '../../src/main/engine/traffic/connection-allowance.ts';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';

function setup(max = 32) {
  const clock = new ManualClock();
  return { clock, allowance: new ConnectionAllowance({ max, clock }) };
}

describe('connection allowance (AIMD)', () => {
  it('halves once per loss episode: 429s for requests sent before the decrease are the same overload', async () => {
    const { clock, allowance } = setup(32);
    const sentAt = clock.now();
    await clock.advance(50);
    // Eight parallel requests sent together, all answered 429: one decrease.
    const halved = Array.from({ length: 8 }, () => allowance.on429(sentAt));
    expect(halved.filter(Boolean)).toHaveLength(1);
    expect(allowance.limit).toBe(16);
    // A straggler sent before that decrease, answered much later: still the same episode.
    await clock.advance(5000);
    expect(allowance.on429(sentAt + 40)).toBe(false);
    expect(allowance.limit).toBe(16);
    // A request sent under the reduced limit that still gets a 429: the reduced limit is still too high.
    const later = clock.now();
    await clock.advance(20);
    expect(allowance.on429(later)).toBe(true);
    expect(allowance.limit).toBe(8);
  });

  it('counts 429s inside the Retry-After given with the decrease as the same episode, and never goes below one', async () => {
    const { clock, allowance } = setup(4);
    await clock.advance(1);
    allowance.on429(clock.now() - 1, 5000);
    expect(allowance.limit).toBe(2);
    await clock.advance(10);
    // Sent after the decrease, but the server had said "wait 5 s": its 429 repeats that.
    const sent = clock.now();
    await clock.advance(4979);
    expect(allowance.on429(sent)).toBe(false);
    await clock.advance(11);
    expect(allowance.on429(sent)).toBe(true);
    expect(allowance.limit).toBe(1);
    await clock.advance(1000);
    expect(allowance.on429(clock.now())).toBe(true);
    expect(allowance.limit).toBe(1);
  });

  it('climbs back by one for every full allowance of successes sent after the decrease, within moments on a busy endpoint', async () => {
    const { clock, allowance } = setup(32);
    const before = clock.now();
    await clock.advance(1);
    allowance.on429(before);
    expect(allowance.limit).toBe(16);
    // Successes of requests sent before the decrease say nothing about the reduced limit.
    for (let i = 0; i < 40; i++) allowance.onSuccess(before);
    expect(allowance.limit).toBe(16);
    await clock.advance(1);
    const sent = clock.now();
    // 16 successes (a full allowance) climb one step; the next step needs 17; no pause needed.
    for (let i = 0; i < 15; i++) allowance.onSuccess(sent);
    expect(allowance.limit).toBe(16);
    expect(allowance.onSuccess(sent)).toBe(true);
    expect(allowance.limit).toBe(17);
    for (let i = 0; i < 16; i++) allowance.onSuccess(sent);
    expect(allowance.limit).toBe(17);
    allowance.onSuccess(sent);
    expect(allowance.limit).toBe(18);
    // Back from 1 to 8 takes 1 + 2 + … + 7 = 28 successes, not 70 seconds.
    const small = setup(8);
    for (let step = 0; step < 3; step++) {
      await small.clock.advance(1);
      small.allowance.on429(small.clock.now());
    }
    expect(small.allowance.limit).toBe(1);
    await small.clock.advance(1);
    let successes = 0;
    while (small.allowance.limit < 8) {
      small.allowance.onSuccess(small.clock.now());
      successes++;
    }
    expect(successes).toBe(28);
  });

  it('on a quiet endpoint climbs after ten calm seconds with a success, and never above its maximum', async () => {
    const { clock, allowance } = setup(4);
    await clock.advance(1);
    allowance.on429(clock.now());
    expect(allowance.limit).toBe(2);
    await clock.advance(1);
    allowance.onSuccess(clock.now());
    expect(allowance.limit).toBe(2);
    await clock.advance(10_000);
    expect(allowance.onSuccess(clock.now())).toBe(true);
    expect(allowance.limit).toBe(3);
    for (let round = 0; round < 5; round++) {
      await clock.advance(10_000);
      for (let i = 0; i < 8; i++) allowance.onSuccess(clock.now());
    }
    expect(allowance.limit).toBe(4);
  });

  it('a 429 resets the run of successes', async () => {
    const { clock, allowance } = setup(8);
    await clock.advance(1);
    allowance.on429(clock.now()); // 4
    await clock.advance(1);
    for (let i = 0; i < 3; i++) allowance.onSuccess(clock.now());
    // A 429 of the same episode (sent before the decrease) changes no limit but starts the count over.
    expect(allowance.on429(0)).toBe(false);
    for (let i = 0; i < 3; i++) allowance.onSuccess(clock.now());
    expect(allowance.limit).toBe(4);
    allowance.onSuccess(clock.now());
    expect(allowance.limit).toBe(5);
  });

  it('does not cut running requests when the limit drops; new ones wait until enough have ended', async () => {
    const { allowance } = setup(8);
    const releases = await Promise.all(Array.from({ length: 8 }, () => allowance.acquire()));
    allowance.on429(-1);
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
      const sentAt = clock.now();
      await clock.sleep(Math.floor(random() * 3000));
      if (random() < 0.1) allowance.on429(sentAt);
      else allowance.onSuccess(sentAt);
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
