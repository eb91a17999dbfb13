// Regenerates resources/icon.png (512x512 RGBA): a blue rounded square with a white down-arrow. Run: node resources/make-icon.mjs
// Kept as a script so the icon is reproducible without an image editor or any image dependency (zlib only).
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 512;

// CRC-32 as the PNG spec defines it; every chunk carries one over its type and data.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

// Coverage of pixel (x, y) by each shape, 0..1, with a one-pixel soft edge so the shapes are anti-aliased.
const edge = (d) => Math.max(0, Math.min(1, 0.5 - d));
function roundedSquare(x, y) {
  const m = 32, r = 96; // margin and corner radius
  const qx = Math.abs(x - SIZE / 2) - (SIZE / 2 - m - r);
  const qy = Math.abs(y - SIZE / 2) - (SIZE / 2 - m - r);
  const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0);
  return edge(outside - r);
}
function arrow(x, y) {
  const cx = SIZE / 2;
  const shaft = Math.max(Math.abs(x - cx) - 36, Math.max(120 - y, y - 300)); // vertical bar
  // Triangle head pointing down: apex at y=392, base at y=270, half-width 112.
  const t = (y - 270) / 122;
  const head = Math.max(270 - y, y - 392, Math.abs(x - cx) - 112 * (1 - t));
  const tray = Math.max(Math.abs(x - cx) - 150, Math.abs(y - 420) - 14); // the "drive" line under the arrow
  return Math.max(edge(shaft), edge(head), edge(tray));
}

const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) {
  const row = y * (SIZE * 4 + 1);
  raw[row] = 0; // filter type: none
  for (let x = 0; x < SIZE; x++) {
    const bg = roundedSquare(x + 0.5, y + 0.5);
    const fg = arrow(x + 0.5, y + 0.5) * bg;
    // Vertical gradient from #3b82f6 to #1d4ed8, with the arrow blended in white.
    const g = y / SIZE;
    const base = [0x3b + (0x1d - 0x3b) * g, 0x82 + (0x4e - 0x82) * g, 0xf6 + (0xd8 - 0xf6) * g];
    const px = row + 1 + x * 4;
    for (let i = 0; i < 3; i++) raw[px + i] = Math.round(base[i] * (1 - fg) + 255 * fg);
    raw[px + 3] = Math.round(255 * bg);
  }
}

const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // colour type: RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(new URL('./icon.png', import.meta.url), png);
console.log(`wrote resources/icon.png (${png.length} bytes)`);
