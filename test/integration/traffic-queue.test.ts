// The download queue and the speed cap end to end through FilehaulService: parallel-files limit and order, cap accuracy, a live cap change.
import { afterEach, describe, expect, it } from 'vitest';
import { addFiles, closeAll, KiB, MiB, openRig, origin, slope, type ProgressEvent } from './traffic-harness.ts';

afterEach(closeAll);

describe('queue', () => {
  it('runs at most parallelFiles downloads at once and starts them in the order they were added', async () => {
    // 24 files rather than 6: the order is decided while each download takes its lock file, and a race there
    // rarely shows with few files. (Unpaced bodies: the origin's pacing cannot serve a request queued on a
    // keep-alive connection behind a paced response; see the report on test/fixtures/origin-body.ts.)
    const api = await origin();
    const files = addFiles(api, 'queued', 24, 64 * KiB);
    const rig = await openRig(api, { requestsPerMinute: 60_000, engine: { parallelFiles: 2, connections: 1 } });
    const ids = [...files.keys()];
    const active = new Set<string>();
    let most = 0;
    const started: string[] = [];
    rig.service.onEvent((event) => {
      if (event.type !== 'state') return;
      if (event.state === 'downloading') {
        active.add(event.fileId);
        started.push(event.fileId);
      } else if (event.state !== 'verifying') active.delete(event.fileId);
      most = Math.max(most, active.size);
    });

    const results = await rig.download(ids);

    expect(results.map((r) => r.state)).toEqual(ids.map(() => 'done'));
    expect(most).toBe(2);
    expect(started).toEqual(ids);
    // The origin agrees: never more than two files had a request open at the same moment.
    const spans = api.requests.map((entry) => ({ file: entry.fileId, from: entry.startedAt, to: entry.endedAt! }));
    for (const span of spans) {
      const overlapping = new Set(spans.filter((other) => other.from < span.to && other.to > span.from).map((other) => other.file));
      expect(overlapping.size, span.file).toBeLessThanOrEqual(2);
    }
  });
});

describe('speed cap', () => {
  it('holds the achieved rate within 10% of the cap over 5 s, and a live change takes effect at once', async () => {
    const cap = 2 * MiB;
    const api = await origin();
    const files = addFiles(api, 'capped', 1, 20 * MiB);
    // The default confirm interval: an fsync ten times a second stalls writes on a slow disk, and bytes count once written.
    const rig = await openRig(api, { requestsPerMinute: 60_000, limitRate: cap, engine: { connections: 4, confirmIntervalMs: 1000 } });
    const done = rig.download([...files.keys()]);
    const between = (from: ProgressEvent, to: ProgressEvent) => rig.events.filter((e): e is ProgressEvent => e.type === 'progress' && e.timestamp >= from.timestamp && e.timestamp <= to.timestamp);

    // From 512 KiB in (past the start-up burst) over at least 5 s: about 10 MiB at the cap.
    const first = await rig.progress((event) => event.bytesDownloaded >= 512 * KiB);
    const second = await rig.progress((event) => event.timestamp >= first.timestamp + 5000);
    const achieved = slope(between(first, second));
    expect(achieved).toBeGreaterThanOrEqual(cap * 0.9);
    expect(achieved).toBeLessThanOrEqual(cap * 1.1);

    const raised = 3 * cap;
    rig.service.setLimitRate(raised);
    const third = await rig.progress((event) => event.bytesDownloaded >= second.bytesDownloaded + 512 * KiB);
    const fourth = await rig.progress((event) => event.bytesDownloaded >= third.bytesDownloaded + 5 * MiB);
    const after = slope(between(third, fourth));
    // Clearly faster than the old cap, never faster than the new one.
    expect(after).toBeGreaterThanOrEqual(cap * 1.5);
    expect(after).toBeLessThanOrEqual(raised * 1.1);

    const [result] = await done;
    expect(result.state).toBe('done');
    expect(result.bytes!.equals(files.get(result.id)!)).toBe(true);
  });
});
