// Bandwidth cap: accurate within 10% over a simulated 5 s window, fair between connections, and a new rate applies to waiters at once.
import { describe, expect, it } from 'vitest';
import { BandwidthLimiter } from '../../src/main/engine/traffic/bandwidth-limiter.ts';
import { ManualClock } from '../../src/main/engine/traffic/manual-clock.ts';

/** A connection that keeps reading `chunk`-byte pieces through the limiter until stopped; counts what it was granted. */
function reader(limiter: BandwidthLimiter, chunk: number, signal: AbortSignal) {
  const state = { bytes: 0 };
  const done = (async () => {
    for (;;) {
      try {
        await limiter.take(chunk, signal);
      } catch {
        return;
      }
      state.bytes += chunk;
    }
  })();
  return { state, done };
}

describe('bandwidth limiter', () => {
  it('grants rate × 5 s within 10% over a simulated 5 s window, shared fairly by equal readers', async () => {
    const clock = new ManualClock();
    const limiter = new BandwidthLimiter({ bytesPerSecond: 2_000_000, clock });
    const stop = new AbortController();
    const readers = [16_384, 16_384, 65_536, 1_048_576].map((chunk) => reader(limiter, chunk, stop.signal));
    await clock.advance(5000);
    const total = readers.reduce((sum, r) => sum + r.state.bytes, 0);
    stop.abort();
    await Promise.all(readers.map((r) => r.done));
    expect(Math.abs(total - 10_000_000) / 10_000_000).toBeLessThan(0.1);
    // Round-robin pieces of at most 64 KiB: the 1 MiB reader cannot starve the 16 KiB ones.
    const small = readers[0].state.bytes;
    expect(small).toBeGreaterThan(1_000_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('serves one big request in pieces while small ones keep flowing', async () => {
    const clock = new ManualClock();
    const limiter = new BandwidthLimiter({ bytesPerSecond: 1_000_000, clock });
    let bigDone: number | null = null;
    void limiter.take(2_000_000).then(() => (bigDone = clock.now()));
    const stop = new AbortController();
    const small = reader(limiter, 65_536, stop.signal);
    await clock.advance(1000);
    // One piece each per turn: the reader that came after the 2 MB request still gets about half of the first second.
    expect(small.state.bytes).toBeGreaterThan(400_000);
    expect(bigDone).toBeNull();
    stop.abort();
    await small.done;
    await clock.advance(5000);
    expect(bigDone).not.toBeNull();
  });

  it('applies a new rate to requests already waiting', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const limiter = new BandwidthLimiter({ bytesPerSecond: 10_000, clock });
    let doneAt: number | null = null;
    void limiter.take(200_000).then(() => (doneAt = clock.now()));
    await clock.advance(1000);
    expect(doneAt).toBeNull();
    // At 10 kB/s this would take 20 s; at 1 MB/s the rest is through in about 0.2 s.
    limiter.setRate(1_000_000);
    await clock.advance(300);
    expect(doneAt).not.toBeNull();
    expect(doneAt! - t0).toBeLessThanOrEqual(1300);
  });

  it('lets everything through when the cap is lifted, and caps again when set', async () => {
    const clock = new ManualClock();
    const limiter = new BandwidthLimiter({ bytesPerSecond: 1000, clock });
    let done = false;
    void limiter.take(1_000_000).then(() => (done = true));
    await clock.settle();
    expect(done).toBe(false);
    limiter.setRate(null);
    await clock.settle();
    expect(done).toBe(true);
    await limiter.take(50_000_000);
    limiter.setRate(100_000);
    const stop = new AbortController();
    const r = reader(limiter, 16_384, stop.signal);
    await clock.advance(5000);
    stop.abort();
    await r.done;
    expect(Math.abs(r.state.bytes - 500_000) / 500_000).toBeLessThan(0.1);
  });

  it('drops an aborted request at once', async () => {
    const clock = new ManualClock();
    const limiter = new BandwidthLimiter({ bytesPerSecond: 1000, clock });
    const controller = new AbortController();
    const taking = limiter.take(1_000_000, controller.signal);
    controller.abort(new Error('paused'));
    await expect(taking).rejects.toThrow('paused');
    expect(limiter.waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
