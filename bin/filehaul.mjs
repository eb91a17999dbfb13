#!/usr/bin/env node
// The `filehaul` command: runs the TypeScript command line directly on Node's built-in type stripping.
import module from 'node:module';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';

// V8's code cache on disk (Node ≥ 22.1; with type-stripped sources since Node 23): later runs skip parsing,
// stripping and compiling the command line and its packages, about 0.2 s and 25 MB of start-up.
module.enableCompileCache?.();

// Keep V8's young generation at its starting 1 MiB. Every socket read brings a 64 KiB buffer that is garbage once
// written to disk, and V8 frees those only when it collects; left to grow its young space, V8 lets ~100 MB of them
// pile up while a fast download runs. Collecting a small young space often keeps them few and warm in cache: on
// 1 GiB over loopback, peak RSS 190 → 130 MB and about a fifth less CPU. Set at run time so `node bin/filehaul.mjs`
// gets it too; of the two flags only the growth factor has an effect once the heap exists.
v8.setFlagsFromString('--semi-space-growth-factor=1');

const entry = new URL('../src/main/cli/main.ts', import.meta.url);

if (!process.features.typescript) {
  // Node 22 before 22.18 strips types only behind a flag: run ourselves again with it. (child_process is loaded
  // only here: imported at the top it would cost every run ~7 ms.)
  const { spawnSync } = await import('node:child_process');
  const result = spawnSync(process.execPath, ['--experimental-strip-types', '--no-warnings', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
