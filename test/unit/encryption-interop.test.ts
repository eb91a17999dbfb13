// Tests that Filehaul's age files and key files work with the standard age tools, both ways (skipped without them).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decryptFile, encryptFile } from '../../src/main/archive/encryption.ts';
import { loadOrCreateIdentity, readIdentityFile } from '../../src/main/archive/encryption-keys.ts';

const run = promisify(execFile);

function missing(tool: string): string | null {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return probe.error ? `${tool} is not installed (apt-get install age)` : null;
}
const skipReason = missing('age') ?? missing('age-keygen');
if (skipReason) console.warn(`[encryption-interop] skipping: ${skipReason}`);
const suffix = skipReason ? ` (skipped: ${skipReason})` : '';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-age-interop-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('age CLI interoperability', () => {
  // Sizes around age's 64 KiB chunk, where implementations most often disagree about the final chunk.
  const sizes = [0, 1, 65_536, 65_537, 2 * 65_536, 1_000_003];

  it.skipIf(skipReason)(`age -d decrypts what Filehaul encrypted, with Filehaul's key file${suffix}`, async () => {
    const keyFile = path.join(root, 'filehaul-identity.txt');
    const { recipient } = await loadOrCreateIdentity(keyFile);
    for (const size of sizes) {
      const plain = path.join(root, `plain-${size}`);
      const bytes = randomBytes(size);
      await writeFile(plain, bytes);
      const { plaintextSha256 } = await encryptFile(plain, `${plain}.age`, recipient);
      // Read from stdout: age -o creates its output only on the first write, so an empty plaintext makes no file.
      const { stdout } = await run('age', ['-d', '-i', keyFile, `${plain}.age`], { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 });
      expect(sha256(stdout)).toBe(sha256(bytes));
      expect(plaintextSha256).toBe(sha256(bytes));
    }
  });

  it.skipIf(skipReason)(`Filehaul decrypts what age -e -r encrypted, with a key file from age-keygen${suffix}`, async () => {
    const keyFile = path.join(root, 'keygen.txt');
    await run('age-keygen', ['-o', keyFile]);
    const { identity, recipient } = await readIdentityFile(keyFile);
    const { stdout } = await run('age-keygen', ['-y', keyFile]);
    expect(recipient).toBe(stdout.trim());
    for (const size of sizes) {
      const plain = path.join(root, `plain-${size}`);
      const bytes = randomBytes(size);
      await writeFile(plain, bytes);
      await run('age', ['-e', '-r', recipient, '-o', `${plain}.age`, plain]);
      expect(await decryptFile(`${plain}.age`, `${plain}.out`, identity)).toEqual({ sha256: sha256(bytes), bytes: size });
      expect(sha256(await readFile(`${plain}.out`))).toBe(sha256(bytes));
    }
  });
});
