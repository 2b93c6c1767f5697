// A PNG decoded far enough to tell a blank screenshot from a drawn one: 8-bit RGB or RGBA, the
// row filters undone (PNG spec, section 9). Enough for Chromium's screenshots; nothing more.
import { inflateSync } from "node:zlib";

export interface Pixels {
  width: number;
  height: number;
  /** Bytes per pixel: 3 (RGB) or 4 (RGBA). */
  channels: number;
  data: Buffer;
}

export function decodePng(png: Buffer): Pixels {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      [width, height] = [body.readUInt32BE(0), body.readUInt32BE(4)];
      const colour = body[9];
      if (body[8] !== 8 || (colour !== 2 && colour !== 6)) throw new Error("only 8-bit RGB(A) PNGs");
      channels = colour === 2 ? 3 : 4;
    } else if (type === "IDAT") idat.push(body);
    at += 12 + length;
  }
  return { width, height, channels, data: unfilter(inflateSync(Buffer.concat(idat)), width, height, channels) };
}

function unfilter(raw: Buffer, width: number, height: number, bpp: number): Buffer {
  const stride = width * bpp;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? (out[y * stride + x - bpp] as number) : 0;
      const b = y > 0 ? (out[(y - 1) * stride + x] as number) : 0;
      const c = x >= bpp && y > 0 ? (out[(y - 1) * stride + x - bpp] as number) : 0;
      const v = line[x] as number;
      out[y * stride + x] = (v + predict(filter as number, a, b, c)) & 0xff;
    }
  }
  return out;
}

function predict(filter: number, a: number, b: number, c: number): number {
  switch (filter) {
    case 0:
      return 0;
    case 1:
      return a;
    case 2:
      return b;
    case 3:
      return (a + b) >> 1;
    case 4: {
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    default:
      throw new Error(`PNG filter ${filter}`);
  }
}

/** How many distinct colours, and the share of pixels unlike the most common one (the background). */
export function inkFigures({ data, channels }: Pixels): { colours: number; ink: number } {
  const counts = new Map<number, number>();
  for (let i = 0; i < data.length; i += channels) {
    const rgb = ((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number);
    counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
  }
  const pixels = data.length / channels;
  const background = Math.max(...counts.values());
  return { colours: counts.size, ink: (pixels - background) / pixels };
}
