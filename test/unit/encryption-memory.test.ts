// Tests that encrypting and decrypting a 64 MiB file never holds the file in memory: peak live memory stays small.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decryptFile, encryptFile } from '../../src/main/archive/encryption.ts';
import { generateIdentity, recipientOf } from '../../src/main/archive/encryption-keys.ts';

const MiB = 1024 * 1024;
const FILE_BYTES = 64 * MiB;
const LIMIT = 32 * MiB;

// Every 64 KiB piece is a fresh buffer that V8 frees only when a GC runs, and without pressure from the JS heap
// it lets tens of MiB of such garbage pile up. Forcing full, synchronous collections while sampling measures
// what is really held; a plain gc() leaves freed buffers to a concurrent sweeper and over-reports.
setFlagsFromString('--expose-gc');
const rawGc = runInNewContext('gc') as (options: object) => void;
const gc = () => rawGc({ type: 'major', execution: 'sync', flavor: 'last-resort' });

let root: string;
let source: string;
let sourceSha256: string;
let identity: string;
let recipient: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-encryption-memory-'));
  source = path.join(root, 'big.bin');
  identity = await generateIdentity();
  recipient = await recipientOf(identity);
  // Written 1 MiB at a time so making the fixture does not itself hold 64 MiB.
  const hash = createHash('sha256');
  const piece = Buffer.alloc(MiB);
  const handle = await open(source, 'w');
  try {
    for (let written = 0; written < FILE_BYTES; written += MiB) {
      randomFillSync(piece);
      hash.update(piece);
      await handle.write(piece);
    }
  } finally {
    await handle.close();
  }
  sourceSha256 = hash.digest('hex');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Growth {
  rss: number;
  arrayBuffers: number;
}

/** Runs `work` while sampling memory after forced collections; returns the peak growth over the starting point. */
async function peakGrowth(work: () => Promise<unknown>): Promise<Growth> {
  gc();
  const base = process.memoryUsage();
  const peak: Growth = { rss: 0, arrayBuffers: 0 };
  const sample = () => {
    gc();
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss - base.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers - base.arrayBuffers);
  };
  const timer = setInterval(sample, 500);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  sample();
  return peak;
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

describe('memory', () => {
  it('the measurement sees a whole file held in memory (control)', async () => {
    let held: Buffer | null = null;
    const growth = await peakGrowth(async () => {
      // Still referenced at the closing sample, as a whole-file buffer inside encryption would be at its peak.
      held = await readFile(source);
    });
    expect(held).not.toBeNull();
    held = null;
    expect(growth.arrayBuffers).toBeGreaterThanOrEqual(FILE_BYTES);
  });

  it(`encrypts and decrypts ${FILE_BYTES / MiB} MiB with less than ${LIMIT / MiB} MiB of growth`, async () => {
    const age = path.join(root, 'big.bin.age');
    const plain = path.join(root, 'big.out');
    const encrypting = await peakGrowth(async () => {
      expect(await encryptFile(source, age, recipient)).toEqual({ plaintextSha256: sourceSha256, bytes: FILE_BYTES });
    });
    const decrypting = await peakGrowth(async () => {
      expect(await decryptFile(age, plain, identity)).toEqual({ sha256: sourceSha256, bytes: FILE_BYTES });
    });
    console.info(
      `[encryption-memory] peak growth for ${FILE_BYTES / MiB} MiB: ` +
        `encrypt rss ${mib(encrypting.rss)} / arrayBuffers ${mib(encrypting.arrayBuffers)}, ` +
        `decrypt rss ${mib(decrypting.rss)} / arrayBuffers ${mib(decrypting.arrayBuffers)}`,
    );
    for (const growth of [encrypting, decrypting]) {
      expect(growth.rss).toBeLessThan(LIMIT);
      expect(growth.arrayBuffers).toBeLessThan(LIMIT);
    }
  }, 180_000); // age in pure JavaScript runs at about 60 MiB/s a core; beside other test files on two cores it takes far longer
});
