import fs from "node:fs";
import { Readable, Transform } from "node:stream";
import zlib from "node:zlib";
import { Decompress, decompress as zstdDecompress } from "fzstd";

/**
 * Gzip and Zstandard files (`.gz`, `.zst`), as datasets ship them: Dolma's `.json.gz`,
 * Proof-Pile-2's and RedPajama's `.jsonl.zst`. node:zlib has no zstd in Node 20; fzstd (pure
 * JS, already in the tree as hyparquet-compressors' zstd) inflates ~260 MB/s here, far above
 * what extraction reads.
 */
const COMPRESSED = /\.(gz|zst)$/i;

/** A file name without its compression suffix. */
export function withoutCompression(file: string): string {
  return file.replace(COMPRESSED, "");
}

function zstdStream(): Transform {
  let inflater: Decompress;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        inflater.push(chunk);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done) {
      try {
        inflater.push(new Uint8Array(0), true);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
  inflater = new Decompress((data) => {
    t.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  return t;
}

/** The file's bytes as a stream, decompressed by its suffix. */
export function openDecompressed(file: string): Readable {
  const raw = fs.createReadStream(file);
  if (/\.gz$/i.test(file)) return raw.pipe(zlib.createGunzip());
  if (/\.zst$/i.test(file)) return raw.pipe(zstdStream());
  return raw;
}

/** A whole file's bytes, decompressed by its suffix; throws a plain Error naming the format on bad data. */
export function decompressBuffer(raw: Buffer, file: string): Buffer {
  if (/\.gz$/i.test(file)) {
    try {
      return zlib.gunzipSync(raw);
    } catch (e) {
      throw new Error(`not gzip (${(e as Error).message})`);
    }
  }
  if (/\.zst$/i.test(file)) {
    try {
      const out = zstdDecompress(raw);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      throw new Error(`not zstd (${(e as Error).message})`);
    }
  }
  return raw;
}

/**
 * Zstandard data inflated, failing past `max` bytes as node:zlib's maxOutputLength does (a bomb
 * stays bounded); `partial`: the input is cut off, so what inflates of it is returned.
 */
export function inflateZstd(data: Buffer, max: number, partial: boolean): Buffer {
  const out: Buffer[] = [];
  let size = 0;
  const inflater = new Decompress((chunk) => {
    size += chunk.byteLength;
    if (size > max) throw new RangeError(`output over ${max} bytes`);
    out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  const step = 1 << 16;
  for (let i = 0; i < data.length; i += step) inflater.push(data.subarray(i, i + step), !partial && i + step >= data.length);
  if (data.length === 0 && !partial) inflater.push(new Uint8Array(0), true);
  return Buffer.concat(out, size);
}
