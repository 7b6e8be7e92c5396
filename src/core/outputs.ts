import fs from "node:fs";
import path from "node:path";
import { UsageError } from "./errors.js";

/**
 * Checks made on output paths before a command starts its work, so a typo costs a message and
 * exit 2, not a stack trace after an hour of crawling.
 */

/** The nearest existing folder at or above `p`; throws when an existing entry on the way is a file. */
function existingAncestor(flag: string, shown: string, p: string, what: string): string {
  const target = path.resolve(p);
  let at = target;
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(at);
    } catch {
      st = undefined;
    }
    if (st) {
      if (!st.isDirectory()) {
        if (at === target) throw new UsageError(`${flag} ${shown} is a file, not a ${what}`);
        throw new UsageError(`${flag} ${shown}: ${at} is a file, not a folder`);
      }
      return at;
    }
    const up = path.dirname(at);
    if (up === at) return at;
    at = up;
  }
}

/**
 * A folder a command will create (or use) at `dir`: no file on its path, and writable where it will be made.
 * `what` names the folder in the message when `dir` itself is a file ("run directory").
 */
export function checkFolderPath(flag: string, dir: string, shown = dir, what = "folder"): void {
  const base = existingAncestor(flag, shown, dir, what);
  try {
    fs.accessSync(base, fs.constants.W_OK);
  } catch {
    if (path.resolve(dir) !== base) throw new UsageError(`${flag} ${shown}: cannot create it: ${base} is not writable`);
  }
}

/** A file a command will write at `file`: not a folder, in a folder that exists and is writable. */
export function checkOutputFile(flag: string, file: string, shown = file): void {
  const abs = path.resolve(file);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) throw new UsageError(`${flag} ${shown}: is a folder; name a file to write`);
  const dir = path.dirname(abs);
  if (!fs.existsSync(dir)) throw new UsageError(`${flag} ${shown}: the folder ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`${flag} ${shown}: ${dir} is a file, not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    if (fs.existsSync(abs)) fs.accessSync(abs, fs.constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${shown}: cannot write there (permission denied)`);
  }
}
