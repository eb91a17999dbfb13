// The machine and tool versions a benchmark ran on, for the head of docs/benchmarks.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { rssMethod } from './measure.ts';

/** Where the renderer part looks for Chromium (as test/e2e/renderer-harness.ts does). */
const CHROMIUM = '/usr/bin/chromium';

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
  } catch (e) {
    // nginx -v prints to stderr
    const err = e as { stderr?: string };
    return String(err.stderr ?? '').split('\n')[0].trim() || 'n/a';
  }
}

/** File system type of the mount holding `dir` (downloads are written there, so it matters for the loopback case). */
function fsType(dir: string): string {
  try {
    let best = { mount: '', type: 'unknown' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mount, type] = line.split(' ');
      if (mount && type && (dir === mount || dir.startsWith(mount.endsWith('/') ? mount : mount + '/')) && mount.length >= best.mount.length)
        best = { mount, type };
    }
    return `${best.type} mounted at ${best.mount}`;
  } catch {
    return 'unknown';
  }
}

export function environment(): string[] {
  // nginx -v prints to stderr and exits 0.
  const v = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  const nginxV = `${v.stderr ?? ''}${v.stdout ?? ''}`.trim() || 'nginx n/a';
  const cpu = os.cpus();
  return [
    `Node ${process.version}, ${nginxV.replace(/^nginx version: /u, '')}, ${firstLine('aria2c', ['--version'])}, ${firstLine('curl', ['--version']).split(' (')[0]}`,
    `${cpu[0]?.model.trim() ?? 'unknown CPU'} × ${cpu.length}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Linux ${os.release()}`,
    `temp dir (sources and downloads): ${os.tmpdir()} (${fsType(os.tmpdir())}); set TMPDIR to move it, e.g. TMPDIR=/dev/shm to take the disk out`,
    ...(existsSync(CHROMIUM) ? [`renderer: ${firstLine(CHROMIUM, ['--version'])} (headless, via playwright-core)`] : []),
    `peak RSS: ${rssMethod === 'time' ? '`/usr/bin/time -f %M`' : 'polled VmHWM of the direct child (a lower bound; /usr/bin/time missing)'}`,
  ];
}
