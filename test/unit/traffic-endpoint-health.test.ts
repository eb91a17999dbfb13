// Endpoint health: a cool-down opened only by sustained overload (isolated 503/529s are not), doubling and resetting, and failover of primary URLs to the backup base and back.
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPEN_AFTER, EndpointHealth } from '../../src/main/engine/traffic/endpoint-health.ts';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';

const PRIMARY = 'https://api.anthropic.com';
const BACKUP = 'https://gateway.example.net/anthropic/';

function setup(backupBase: string | null = BACKUP) {
  const clock = new ManualClock();
  const health = new EndpointHealth({ primaryBase: PRIMARY, backupBase, cooldown: { initialMs: 30_000, maxMs: 600_000 }, clock });
  return { clock, health, t0: clock.now() };
}

/** Sustained overload: DEFAULT_OPEN_AFTER overload answers in a row; returns what the last one said. */
function overload(health: EndpointHealth, endpoint: string = PRIMARY, retryAfterMs?: number): number | null {
  let until: number | null = null;
  for (let i = 0; i < DEFAULT_OPEN_AFTER; i++) until = health.reportOverload(endpoint, retryAfterMs);
  return until;
}

describe('overload cool-down', () => {
  it('does not open for isolated 503/529s among successes; opens on five in a row', () => {
    const { health, t0 } = setup();
    expect(DEFAULT_OPEN_AFTER).toBe(5);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < DEFAULT_OPEN_AFTER - 1; i++) expect(health.reportOverload(PRIMARY)).toBeNull();
      health.reportSuccess(PRIMARY);
    }
    expect(health.coolingUntil(PRIMARY)).toBeNull();
    expect(health.route(`${PRIMARY}/v1/files/x`).failover).toBe(false);
    for (let i = 0; i < DEFAULT_OPEN_AFTER - 1; i++) health.reportOverload(PRIMARY);
    expect(health.consecutiveOverloads(PRIMARY)).toBe(4);
    expect(health.reportOverload(PRIMARY)).toBe(t0 + 30_000);
    expect(health.coolingUntil(PRIMARY)).toBe(t0 + 30_000);
  });

  it('takes the threshold from the settings, and opens at once for an unreachable endpoint', () => {
    const clock = new ManualClock();
    const health = new EndpointHealth({ primaryBase: PRIMARY, backupBase: null, cooldown: { initialMs: 1000, maxMs: 4000, openAfter: 2 }, clock });
    expect(health.reportOverload(PRIMARY)).toBeNull();
    expect(health.reportOverload(PRIMARY)).toBe(clock.now() + 1000);
    const other = new EndpointHealth({ primaryBase: PRIMARY, backupBase: null, clock });
    expect(other.reportOverload(PRIMARY, null, { immediate: true })).toBe(clock.now() + 30_000);
    expect(() => new EndpointHealth({ primaryBase: PRIMARY, backupBase: null, cooldown: { initialMs: 1000, maxMs: 4000, openAfter: 0 }, clock })).toThrow(RangeError);
  });

  it('starts at 30 s and doubles per cool-down in a row (half-open: one overload reopens it) up to 10 min', async () => {
    const { clock, health } = setup();
    const durations: number[] = [];
    const start = clock.now();
    durations.push(overload(health)! - start);
    await clock.advance(durations[0]);
    for (let i = 0; i < 6; i++) {
      const at = clock.now();
      // No success since the last cool-down: the first overload after it reopens it.
      durations.push(health.reportOverload(PRIMARY)! - at);
      await clock.advance(durations.at(-1)!);
      expect(health.coolingUntil(PRIMARY)).toBeNull();
    }
    expect(durations).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    expect(health.cooldownsInRow(PRIMARY)).toBe(7);
  });

  it('starts over after a success: the run must build up again and the cool-down is 30 s', async () => {
    const { clock, health } = setup();
    await clock.advance(overload(health)! - clock.now());
    await clock.advance(health.reportOverload(PRIMARY)! - clock.now());
    expect(health.cooldownsInRow(PRIMARY)).toBe(2);
    health.reportSuccess(PRIMARY);
    expect(health.consecutiveOverloads(PRIMARY)).toBe(0);
    expect(health.cooldownsInRow(PRIMARY)).toBe(0);
    expect(health.reportOverload(PRIMARY)).toBeNull();
    expect(overload(health)! - clock.now()).toBe(30_000);
  });

  it('counts a burst of overloads during one cool-down once, and honours a longer Retry-After', async () => {
    const { clock, health, t0 } = setup();
    overload(health);
    await clock.advance(1000);
    for (let i = 0; i < 7; i++) health.reportOverload(PRIMARY);
    expect(health.coolingUntil(PRIMARY)).toBe(t0 + 30_000);
    expect(health.cooldownsInRow(PRIMARY)).toBe(1);
    await clock.advance(29_000);
    expect(health.reportOverload(PRIMARY, 300_000)).toBe(t0 + 30_000 + 300_000);
  });

  it('with no backup, waits out each cool-down', async () => {
    const { clock, health, t0 } = setup(null);
    const availableAt: number[] = [];
    const wait = () => void health.waitUntilAvailable().then(() => availableAt.push(clock.now() - t0));
    overload(health);
    wait();
    await clock.advance(29_999);
    expect(availableAt).toEqual([]);
    await clock.advance(1);
    expect(availableAt).toEqual([30_000]);
    health.reportOverload(PRIMARY); // the first request after the cool-down was overloaded again: 60 s more
    wait();
    await clock.advance(60_000);
    expect(availableAt).toEqual([30_000, 90_000]);
    wait(); // nothing to wait for
    await clock.settle();
    expect(availableAt).toEqual([30_000, 90_000, 90_000]);
  });
});

describe('failover routing', () => {
  it('sends primary URLs to the backup base while the primary cools down, and back afterwards', async () => {
    const { clock, health } = setup();
    const url = `${PRIMARY}/v1/files/file_abc/content?beta=true`;
    expect(health.route(url)).toEqual({ url, endpoint: PRIMARY, failover: false, availableAt: null });
    overload(health);
    expect(health.route(url)).toEqual({
      url: 'https://gateway.example.net/anthropic/v1/files/file_abc/content?beta=true',
      endpoint: 'https://gateway.example.net/anthropic',
      failover: true,
      availableAt: null,
    });
    await clock.advance(30_000);
    expect(health.route(url).url).toBe(url);
  });

  it('leaves URLs of other hosts alone, even look-alikes of the base', () => {
    const clock = new ManualClock();
    const health = new EndpointHealth({ primaryBase: 'https://proxy.example/api', backupBase: BACKUP, clock });
    overload(health, 'https://proxy.example/api');
    for (const url of ['https://cdn.example.org/big.iso?sig=1', 'https://proxy.example/apiv2/x', 'http://proxy.example/api/x']) {
      expect(health.route(url)).toMatchObject({ url, failover: false, availableAt: null });
    }
    expect(health.route('https://proxy.example/api/v1/files').url).toBe('https://gateway.example.net/anthropic/v1/files');
  });

  it('with both endpoints down, waits for whichever recovers first', async () => {
    const { clock, health, t0 } = setup();
    const url = `${PRIMARY}/v1/files/x`;
    overload(health);
    const backupEndpoint = 'https://gateway.example.net/anthropic';
    await clock.advance(10_000);
    overload(health, backupEndpoint);
    expect(health.route(url)).toMatchObject({ endpoint: PRIMARY, availableAt: t0 + 30_000 });
    await clock.advance(20_000);
    expect(health.route(url)).toMatchObject({ endpoint: PRIMARY, availableAt: null });
  });

  it('reports the cool-down for the UI without a backup', () => {
    const { health, t0 } = setup(null);
    expect(health.coolingUntil()).toBeNull();
    overload(health);
    expect(health.coolingUntil()).toBe(t0 + 30_000);
    expect(health.route(`${PRIMARY}/v1/files`)).toMatchObject({ failover: false, availableAt: t0 + 30_000 });
  });
});
