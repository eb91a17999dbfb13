// The demo files' bytes, made on demand from any offset: nothing is stored, so a 64 MiB file costs one 64 KiB chunk of memory.
import type { ServerResponse } from 'node:http';
import { mix32, TEXT_LINE_WIDTH, type DemoFile } from './demo-catalog.ts';

/** Binary content is generated in independent blocks of this size, so a range can start anywhere. */
const BLOCK_BYTES = 64 * 1024;
const LINES_PER_CHUNK = BLOCK_BYTES / TEXT_LINE_WIDTH;

const REGIONS = ['north', 'south', 'east', 'west', 'central', 'coastal', 'alpine', 'metro'];
const PRODUCTS = ['widget', 'gizmo', 'sprocket', 'gadget', 'flange', 'bracket', 'rotor', 'valve'];
const LEVELS = ['INFO ', 'INFO ', 'INFO ', 'DEBUG', 'WARN ', 'INFO ', 'ERROR', 'INFO '];
const WORDS = ['the', 'archive', 'download', 'segment', 'month', 'verified', 'resume', 'range', 'file', 'quickly', 'and', 'of', 'every', 'sample', 'data', 'notes', 'review', 'plan'];

/** The bytes [start, end) of the file, or a prefix of them ending at a chunk boundary: call again for the rest. */
export function contentChunk(file: DemoFile, start: number, end: number): Buffer {
  return file.kind === 'binary' ? binaryChunk(file.seed, start, end) : textChunk(file, start, end);
}

/** Writes [start, end] inclusive with backpressure, paced to `bytesPerSecond` when given; stops when the client leaves. */
export async function streamContent(res: ServerResponse, file: DemoFile, start: number, end: number, bytesPerSecond: number | null): Promise<void> {
  const began = performance.now();
  let sent = 0;
  for (let offset = start; offset <= end; ) {
    if (res.destroyed) return;
    const chunk = contentChunk(file, offset, end + 1);
    offset += chunk.length;
    sent += chunk.length;
    if (!res.write(chunk) && !res.destroyed) await whenDrainedOrClosed(res);
    if (bytesPerSecond) {
      // Pace against the start time so timer lateness does not add up over a long file.
      const wait = began + (sent / bytesPerSecond) * 1000 - performance.now();
      if (wait > 0) await delayOrClosed(res, wait);
    }
  }
  if (!res.destroyed) res.end();
}

function binaryChunk(seed: number, start: number, end: number): Buffer {
  const block = Math.floor(start / BLOCK_BYTES);
  const bytes = Buffer.allocUnsafeSlow(BLOCK_BYTES);
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, BLOCK_BYTES / 4);
  // xorshift32 restarted per block from (seed, block): any block can be made without its predecessors.
  let state = mix32(seed ^ mix32(block + 1)) || 0x6d2b79f5;
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[i] = state;
  }
  const blockStart = block * BLOCK_BYTES;
  return bytes.subarray(start - blockStart, Math.min(end, blockStart + BLOCK_BYTES) - blockStart);
}

function textChunk(file: DemoFile, start: number, end: number): Buffer {
  const firstLine = Math.floor(start / TEXT_LINE_WIDTH);
  const lastLine = Math.min(firstLine + LINES_PER_CHUNK, Math.ceil(end / TEXT_LINE_WIDTH));
  let text = '';
  for (let line = firstLine; line < lastLine; line++) text += textLine(file, line);
  const chunkStart = firstLine * TEXT_LINE_WIDTH;
  return Buffer.from(text, 'latin1').subarray(start - chunkStart, Math.min(end, lastLine * TEXT_LINE_WIDTH) - chunkStart);
}

/** One line of exactly TEXT_LINE_WIDTH bytes (ASCII, newline included), depending only on the file and the line number. */
function textLine(file: DemoFile, line: number): string {
  const r = (salt: number) => mix32(file.seed ^ mix32(line * 31 + salt));
  let body: string;
  if (file.kind === 'csv') {
    body = line === 0
      ? 'id,date,region,product,quantity,amount,comment'
      : `${String(line).padStart(7, '0')},2025-${pad2(1 + (r(1) % 12))}-${pad2(1 + (r(2) % 28))},${pick(REGIONS, r(3))},${pick(PRODUCTS, r(4))},${r(5) % 500},${(r(6) % 1_000_000) / 100},`;
  } else if (file.kind === 'log') {
    const seconds = line * 7 + (r(1) % 7);
    const time = new Date(Date.parse(file.createdAt) - 86_400_000 + seconds * 1000).toISOString().slice(0, 19);
    body = `${time}Z ${pick(LEVELS, r(2))} worker-${r(3) % 16} batch ${String(line).padStart(7, '0')} took ${r(4) % 900} ms`;
  } else {
    body = line === 0 ? `# ${file.filename.replace(/\.md$/, '').replace(/-/g, ' ')}` : proseLine(r);
  }
  return `${body.slice(0, TEXT_LINE_WIDTH - 1).padEnd(TEXT_LINE_WIDTH - 1, ' ')}\n`;
}

function proseLine(random: (salt: number) => number): string {
  let text = '';
  for (let salt = 10; text.length < TEXT_LINE_WIDTH - 12; salt++) text += `${text ? ' ' : ''}${pick(WORDS, random(salt))}`;
  return `${text}.`;
}

function pick<T>(items: readonly T[], value: number): T {
  return items[value % items.length];
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

function whenDrainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function delayOrClosed(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}
