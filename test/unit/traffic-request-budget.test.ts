// Request budget: even pacing from a small burst, FIFO order across downloads, live rate changes, and budgets driven by rate-limit headers.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';
import { defaultBurst, RequestBudget } from '../../src/main/engine/traffic/request-budget.ts';

function setup(requestsPerMinute: number, burst?: number) {
  const clock = new ManualClock();
  const budget = new RequestBudget({ requestsPerMinute, burst, clock });
  const granted: Array<{ name: string; at: number }> = [];
  const ask = (name: string, signal?: AbortSignal, onQueued?: (until: number) => void) =>
    budget.acquire(signal, onQueued).then(() => granted.push({ name, at: clock.now() }));
  return { clock, budget, granted, ask, t0: clock.now() };
}

describe('request budget', () => {
  it('uses one second of the rate as its burst, at least one request', () => {
    expect(defaultBurst(100)).toBe(1);
    expect(defaultBurst(30)).toBe(1);
    expect(defaultBurst(600)).toBe(10);
  });

  it('paces N requests over (N - burst) / rate, evenly', async () => {
    const { clock, granted, ask, t0 } = setup(100);
    for (let i = 0; i < 11; i++) void ask(`r${i}`);
    await clock.advance(5999);
    expect(granted).toHaveLength(10);
    await clock.advance(1);
    expect(granted).toHaveLength(11);
    // 100 rpm is one request every 600 ms; the first goes at once.
    expect(granted.map((g) => g.at - t0)).toEqual([0, 600, 1200, 1800, 2400, 3000, 3600, 4200, 4800, 5400, 6000]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('after a timer that fires late, sends the next request a whole interval later, not sooner to catch up', async () => {
    // An origin limiting at the same rate caps its bucket at the burst too: it earned nothing extra while the timer
    // was late, so a request sooner than an interval after the late one is a 429.
    const { clock, granted, ask, t0 } = setup(100);
    for (let i = 0; i < 3; i++) void ask(`r${i}`);
    await clock.settle();
    clock.stall(700);
    await clock.advance(0);
    await clock.advance(1300);
    expect(granted.map((g) => g.at - t0)).toEqual([0, 700, 1300]);
  });

  it('lets a configured burst out at once and paces the rest', async () => {
    const { clock, granted, ask, t0 } = setup(60, 5);
    for (let i = 0; i < 15; i++) void ask(`r${i}`);
    await clock.settle();
    expect(granted).toHaveLength(5);
    await clock.advance(10_000);
    expect(granted).toHaveLength(15);
    expect(granted.at(-1)!.at - t0).toBe((15 - 5) * 1000);
  });

  it('serves waiters first come, first served, and a newcomer never jumps the line', async () => {
    const { clock, granted, ask } = setup(60);
    const order = ['a1', 'b1', 'c1', 'a2', 'b2', 'c2'];
    for (const name of order) void ask(name);
    await clock.advance(2999);
    // A token is almost there; a request arriving now must queue behind the three still waiting.
    void ask('late');
    await clock.advance(10_000);
    expect(granted.map((g) => g.name)).toEqual([...order, 'late']);
  });

  it('tells each waiter when its token is due, and reports when the next one is', async () => {
    const { clock, budget, ask, t0 } = setup(100);
    const promised: number[] = [];
    for (let i = 0; i < 4; i++) void ask(`r${i}`, undefined, (until) => promised.push(until - t0));
    await clock.settle();
    expect(promised).toEqual([600, 1200, 1800]);
    expect(budget.waitingUntil()).toBe(t0 + 600);
    await clock.advance(600);
    expect(budget.waitingUntil()).toBe(t0 + 1200);
    await clock.advance(1200);
    expect(budget.waitingUntil()).toBeNull();
  });

  it('applies a new rate to requests already waiting', async () => {
    const { clock, budget, granted, ask, t0 } = setup(60);
    for (let i = 0; i < 3; i++) void ask(`r${i}`);
    await clock.advance(500);
    budget.setRate(600);
    await clock.advance(200);
    // Half a token earned at 60 rpm, then 100 ms per token.
    expect(granted.map((g) => g.at - t0)).toEqual([0, 550, 650]);
  });

  it('gives nothing out after "remaining: 0" until the reset time, then resumes pacing', async () => {
    const { clock, budget, granted, ask, t0 } = setup(100);
    const reset = new Date(t0 + 10_000).toISOString();
    budget.updateFromHeaders({ 'anthropic-ratelimit-requests-limit': '100', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': reset });
    void ask('a');
    void ask('b');
    await clock.settle();
    expect(budget.waitingUntil()).toBe(t0 + 10_000);
    await clock.advance(9999);
    expect(granted).toHaveLength(0);
    await clock.advance(1);
    expect(granted.map((g) => g.at - t0)).toEqual([10_000]);
    await clock.advance(600);
    expect(granted.map((g) => g.at - t0)).toEqual([10_000, 10_600]);
  });

  it('follows the limit header as its rate and ignores responses without the headers', async () => {
    const { clock, budget, granted, ask, t0 } = setup(100);
    budget.updateFromHeaders({ 'content-type': 'application/json' });
    expect(budget.requestsPerMinute).toBe(100);
    budget.updateFromHeaders({ 'anthropic-ratelimit-requests-limit': '30', 'anthropic-ratelimit-requests-remaining': '29' });
    expect(budget.requestsPerMinute).toBe(30);
    for (let i = 0; i < 3; i++) void ask(`r${i}`);
    await clock.advance(4000);
    expect(granted.map((g) => g.at - t0)).toEqual([0, 2000, 4000]);
  });

  it('holds every waiter through a Retry-After pause', async () => {
    const { clock, budget, granted, ask, t0 } = setup(100);
    await ask('first');
    budget.pauseUntil(t0 + 5000);
    void ask('second');
    await clock.advance(4999);
    expect(granted).toHaveLength(1);
    await clock.advance(1);
    expect(granted.map((g) => g.at - t0)).toEqual([0, 5000]);
  });

  it('drops an aborted waiter without losing its place for the others', async () => {
    const { clock, budget, granted, ask, t0 } = setup(100);
    await ask('first');
    const controller = new AbortController();
    const aborted = ask('gone', controller.signal).catch((error: unknown) => error);
    void ask('next');
    controller.abort(new Error('paused'));
    expect(await aborted).toMatchObject({ message: 'paused' });
    await clock.advance(600);
    expect(granted.map((g) => [g.name, g.at - t0])).toEqual([['first', 0], ['next', 600]]);
    expect(budget.waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
