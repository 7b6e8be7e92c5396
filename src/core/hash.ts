import crypto from "node:crypto";
import fs from "node:fs";

/** sha256 of a file, read in 1 MiB pieces (models and shards are large). */
export function sha256File(file: string): string {
  const h = crypto.createHash("sha256");
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/**
 * A deterministic, well-mixed order of document ids (so samples do not all come from the first
 * file): murmur3's finaliser over both halves of the id, the low half mixed with `seed` first
 * (seed 0: the low half as it is). Ties are broken by the id.
 */
export const mixId = (id: number, seed = 0): number => {
  const fmix = (x: number) => {
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  return fmix((fmix((id % 4294967296) ^ Math.imul(seed, 0x27d4eb2f)) + Math.imul(Math.floor(id / 4294967296), 0x9e3779b1)) | 0);
};
