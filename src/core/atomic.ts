import fs from "node:fs";
import path from "node:path";

/** fsync of a file or folder by path. */
export function fsyncPath(p: string): void {
  const fd = fs.openSync(p, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to `file` atomically: temp file, fsync, rename, fsync of the folder. */
export function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fsyncPath(tmp);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncPath(path.dirname(file));
}
