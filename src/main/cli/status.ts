// `filehaul status`: what the catalog holds — every download, its state and how much of it is safely on disk.
import { readLiveTraffic } from '../live-traffic.ts';
import { FilehaulService } from '../service.ts';
import { formatBytes } from './format.ts';
import type { CommandIo } from './get.ts';
import { liveTrafficLines, liveTrafficObjects } from './live-report.ts';
import { parseCommand, serviceOptions } from './options.ts';

export async function runStatus(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommand(args);
  if (values.help) {
    io.stdout.write('Usage: filehaul status [--dir DIR] [--json]\n\nLists every download in the catalog with its state and confirmed bytes, and, while another filehaul\nruns on the same directory, each endpoint\'s connection allowance, budget wait and cool-down.\n');
    return 0;
  }
  const service = await FilehaulService.open({ ...serviceOptions(values), apiKey: null });
  try {
    const rows = service.status();
    // Another process (a `get`, `sync`, `serve` or the desktop app) may be downloading into this directory right now.
    const live = readLiveTraffic(service.layout.tmpDir);
    if (values.json) {
      for (const { record, confirmedBytes } of rows) {
        io.stdout.write(`${JSON.stringify({ download_id: record.id, file_id: record.sourceKind === 'files-api' ? record.sourceRef : undefined, url: record.sourceKind === 'url' ? record.sourceRef : undefined, filename: record.filename, state: record.state, size_bytes: record.sizeBytes, confirmed_bytes: confirmedBytes, path: record.finalPath, sha256: record.sha256, error: record.error, added_at: record.addedAt, completed_at: record.completedAt })}\n`);
      }
      for (const endpoint of liveTrafficObjects(live)) io.stdout.write(`${JSON.stringify(endpoint)}\n`);
      return 0;
    }
    for (const line of liveTrafficLines(live, Date.now())) io.stdout.write(`${line}\n`);
    if (rows.length === 0) {
      io.stdout.write(`No downloads in ${service.layout.dataDir} yet.\n`);
      return 0;
    }
    for (const { record, confirmedBytes } of rows) {
      const size = record.sizeBytes === null ? '?' : formatBytes(record.sizeBytes);
      const percent = record.sizeBytes ? ` ${Math.floor((confirmedBytes / record.sizeBytes) * 100)}%` : '';
      const where = record.finalPath ?? record.error ?? '';
      io.stdout.write(`${record.state.padEnd(11)} ${(record.filename ?? record.sourceRef).slice(0, 48).padEnd(48)} ${size.padStart(10)}${percent.padStart(5)}  ${where}\n`);
    }
    return 0;
  } finally {
    await service.close();
  }
}
