// What the soak benchmark throws at the client: its seeded mix of small, medium and large files, and the faults the origin injects.
import { makeBytes, seededRandom, type Fault, type FaultMatchInput, type Origin } from '../fixtures/files-api-origin.ts';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** One file of the soak: its id at the origin, its bytes and its size class. */
export interface PlannedFile {
  id: string;
  bytes: Buffer;
  size: 'small' | 'medium' | 'large';
}

/** The soak's mix: mostly small files, some medium, a few large, in a seeded order so large ones fall all through the run. */
export function planFiles(count: number, seed: number): PlannedFile[] {
  const random = seededRandom(seed);
  const large = Math.max(1, Math.round(count * 0.002));
  const medium = Math.round(count * 0.04);
  const kinds: ('small' | 'medium' | 'large')[] = [];
  for (let n = 0; n < count; n++) kinds.push(n < large ? 'large' : n < large + medium ? 'medium' : 'small');
  // Fisher–Yates with the seeded generator.
  for (let n = kinds.length - 1; n > 0; n--) {
    const k = Math.floor(random() * (n + 1));
    [kinds[n], kinds[k]] = [kinds[k], kinds[n]];
  }
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  return kinds.map((size, n) => {
    const length = size === 'large' ? between(16 * MiB, 32 * MiB) : size === 'medium' ? between(1 * MiB, 4 * MiB) : between(1 * KiB, 64 * KiB);
    return { id: `file_soak${String(n).padStart(5, '0')}`, bytes: makeBytes(length, seed * 7 + n), size };
  });
}

/**
 * Each kind weighted 1/5: 429 (short retry-after-ms), 503, 529, a reset and a stall mid-body. Resets and stalls come
 * early (512 B, hits small files too) and late (256 KiB, hits medium and large segments only).
 */
export function soakFaults(): Fault[] {
  const status = (code: number): Fault => ({ kind: 'status', status: code, ...(code === 429 && { headers: { 'retry-after-ms': '50' } }) });
  return [
    status(429),
    status(429),
    status(503),
    status(503),
    status(529),
    status(529),
    { kind: 'reset', afterBytes: 512 },
    { kind: 'reset', afterBytes: 256 * KiB },
    { kind: 'stall', afterBytes: 512 },
    { kind: 'stall', afterBytes: 256 * KiB },
  ];
}

/**
 * What origin.setFaultRate(rate, soakFaults(), seed) does — the same two draws per content request from the same seed,
 * so the same pattern — except that with spareProbeResets a reset drawn for `bytes=0-` becomes a stall. Built on
 * injectFault: the first injection's match makes the draw for each request, the others match the fault it drew.
 * Returns a counter of the resets spared.
 */
export function setSoakFaults(origin: Origin, settings: { faultRate: number; seed: number; spareProbeResets: boolean }): () => number {
  const faults = soakFaults();
  const stallFor = new Map<Fault, Fault>();
  for (const fault of faults) if (fault.kind === 'reset') stallFor.set(fault, faults.find((f) => f.kind === 'stall' && f.afterBytes === fault.afterBytes)!);
  const random = seededRandom(settings.seed);
  let spared = 0;
  let drawn: Fault | undefined;
  const draw = (entry: FaultMatchInput): Fault | undefined => {
    if (entry.kind !== 'content' && entry.kind !== 'plain') return undefined;
    const roll = random();
    const pick = random();
    if (roll >= settings.faultRate) return undefined;
    const fault = faults[Math.floor(pick * faults.length)];
    if (settings.spareProbeResets && entry.range === 'bytes=0-' && stallFor.has(fault)) {
      spared++;
      return stallFor.get(fault);
    }
    return fault;
  };
  faults.forEach((fault, index) => {
    origin.injectFault(fault, {
      count: Number.MAX_SAFE_INTEGER,
      match: (entry) => {
        if (index === 0) drawn = draw(entry);
        return drawn === fault;
      },
    });
  });
  return () => spared;
}
