import { checkFolderPath } from "../core/outputs.js";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { UsageError } from "../core/errors.js";
import type { WorkStore } from "./store.js";
import { RunStores } from "./stores.js";

/** Who holds a run's lock (written to `lock.json` beside it, for the message others get). */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  started: string;
}

/**
 * One process at a time changes a run: two `round`s on one run directory would crawl the same
 * files twice and train into the same model file. The lock is SQLite's own: a connection to
 * `DIR/lock.sqlite` in exclusive locking mode holds the file's lock (a POSIX advisory lock) until
 * it is closed, and the operating system drops it when the process ends in any way, SIGKILL
 * included, so a crashed run never leaves a stale lock to remove by hand (a lock file with a
 * staleness timeout would either make a rerun wait or be taken from a process that is merely
 * busy in a long synchronous step). Readers (`selected`, `eval --run`) do not take it: the work
 * store is in WAL mode and they read while a round writes.
 */
export class RunLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly infoFile: string,
  ) {}

  /** Takes the lock of `runDir` for `command`, or throws a UsageError naming its holder. */
  static acquire(runDir: string, command: string): RunLock {
    checkFolderPath("--run", runDir, runDir, "run directory");
    fs.mkdirSync(runDir, { recursive: true });
    const infoFile = path.join(runDir, "lock.json");
    const db = new Database(path.join(runDir, "lock.sqlite"), { timeout: 0 });
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      // the first write takes the exclusive lock; in this mode it is kept after COMMIT
      db.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; COMMIT");
      db.prepare("INSERT INTO holder (pid) VALUES (?)").run(process.pid);
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === "SQLITE_BUSY") {
        const h = readHolder(infoFile);
        const who = h ? ` (\`${h.command}\`, pid ${h.pid} on ${h.host}, since ${h.started})` : "";
        throw new UsageError(`${runDir} is in use by another mathcorpus process${who}: wait for it to end or stop it, then run this again`);
      }
      throw err;
    }
    const holder: LockHolder = { pid: process.pid, host: os.hostname(), command, started: new Date().toISOString() };
    fs.writeFileSync(infoFile, JSON.stringify(holder) + "\n");
    return new RunLock(db, infoFile);
  }

  /**
   * Who holds the lock of `dir` now: undefined when nobody does (nothing is left behind), the
   * holder (or an empty one if lock.json is missing) when a live process does.
   */
  static holder(dir: string): LockHolder | undefined {
    if (!fs.existsSync(path.join(dir, "lock.sqlite"))) return undefined;
    const db = new Database(path.join(dir, "lock.sqlite"), { timeout: 0 });
    try {
      db.exec("BEGIN EXCLUSIVE; COMMIT");
      return undefined;
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_BUSY") return readHolder(path.join(dir, "lock.json")) ?? { pid: 0, host: "", command: "", started: "" };
      throw err;
    } finally {
      db.close();
    }
  }

  /** Releases the lock (idempotent). */
  release(): void {
    if (!this.db.open) return;
    fs.rmSync(this.infoFile, { force: true });
    this.db.close();
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as LockHolder;
  } catch {
    return undefined;
  }
}

/**
 * The work store of an existing run, opened for a command that changes it: the run must exist
 * (nothing is created for a mistyped directory) and its lock is taken; `close` releases both.
 */
export function openRunLocked(runDir: string, command: string): { store: WorkStore; stores: RunStores; close(): void } {
  const stores = RunStores.openRun(runDir);
  let lock: RunLock;
  try {
    lock = RunLock.acquire(runDir, command);
  } catch (err) {
    stores.close();
    throw err;
  }
  return {
    store: stores.coord,
    stores,
    close() {
      stores.close();
      lock.release();
    },
  };
}
