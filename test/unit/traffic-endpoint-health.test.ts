// Endpoint health: overload cool-downs that double and reset, and failover of primary URLs to the backup base and back.
import { describe, expect, it } from 'vitest';
import { EndpointHealth } from '../../src/main/engine/traffic/endpoint-health.ts';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';

const PRIMARY = 'https://api.anthropic.com';
const BACKUP = 'https://gateway.example.net/anthropic/';

function setup(backupBase: string | null = BACKUP) {
  const clock = new ManualClock();
  const health = new EndpointHealth({ primaryBase: PRIMARY, backupBase, cooldown: { initialMs: 30_000, maxMs: 600_000 }, clock });
  return { clock, health, t0: clock.now() };
}

describe('overload cool-down', () => {
  it('starts at 30 s and doubles per consecutive overload up to 10 min', async () => {
    const { clock, health } = setup();
    const durations: number[] = [];
    for (let i = 0; i < 7; i++) {
      const start = clock.now();
      durations.push(health.reportOverload(PRIMARY) - start);
      await clock.advance(durations.at(-1)!);
      expect(health.coolingUntil(PRIMARY)).toBeNull();
    }
    expect(durations).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
  });

  it('starts over at 30 s after a success', async () => {
    const { clock, health } = setup();
    await clock.advance(health.reportOverload(PRIMARY) - clock.now());
    await clock.advance(health.reportOverload(PRIMARY) - clock.now());
    expect(health.consecutiveOverloads(PRIMARY)).toBe(2);
    health.reportSuccess(PRIMARY);
    expect(health.consecutiveOverloads(PRIMARY)).toBe(0);
    expect(health.reportOverload(PRIMARY) - clock.now()).toBe(30_000);
  });

  it('counts a burst of overloads during one cool-down once, and honours a longer Retry-After', async () => {
    const { clock, health, t0 } = setup();
    health.reportOverload(PRIMARY);
    await clock.advance(1000);
    for (let i = 0; i < 7; i++) health.reportOverload(PRIMARY);
    expect(health.coolingUntil(PRIMARY)).toBe(t0 + 30_000);
    expect(health.consecutiveOverloads(PRIMARY)).toBe(1);
    await clock.advance(29_000);
    expect(health.reportOverload(PRIMARY, 300_000)).toBe(t0 + 30_000 + 300_000);
  });

  it('with no backup, waits out each cool-down', async () => {
    const { clock, health, t0 } = setup(null);
    const availableAt: number[] = [];
    const wait = () => void health.waitUntilAvailable().then(() => availableAt.push(clock.now() - t0));
    health.reportOverload(PRIMARY);
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
    health.reportOverload(PRIMARY);
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
    health.reportOverload('https://proxy.example/api');
    for (const url of ['https://cdn.example.org/big.iso?sig=1', 'https://proxy.example/apiv2/x', 'http://proxy.example/api/x']) {
      expect(health.route(url)).toMatchObject({ url, failover: false, availableAt: null });
    }
    expect(health.route('https://proxy.example/api/v1/files').url).toBe('https://gateway.example.net/anthropic/v1/files');
  });

  it('with both endpoints down, waits for whichever recovers first', async () => {
    const { clock, health, t0 } = setup();
    const url = `${PRIMARY}/v1/files/x`;
    health.reportOverload(PRIMARY);
    const backupEndpoint = 'https://gateway.example.net/anthropic';
    await clock.advance(10_000);
    health.reportOverload(backupEndpoint);
    expect(health.route(url)).toMatchObject({ endpoint: PRIMARY, availableAt: t0 + 30_000 });
    await clock.advance(20_000);
    expect(health.route(url)).toMatchObject({ endpoint: PRIMARY, availableAt: null });
  });

  it('reports the cool-down for the UI without a backup', () => {
    const { health, t0 } = setup(null);
    expect(health.coolingUntil()).toBeNull();
    health.reportOverload(PRIMARY);
    expect(health.coolingUntil()).toBe(t0 + 30_000);
    expect(health.route(`${PRIMARY}/v1/files`)).toMatchObject({ failover: false, availableAt: t0 + 30_000 });
  });
});
