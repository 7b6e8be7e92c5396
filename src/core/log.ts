import fs from "node:fs";
import path from "node:path";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** JSON-lines log: one object a line, `ts`, `level`, `event`, then fields. */
export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  /** Ends the log; rejects when a write failed (a full disk), unless `abandon` was called. */
  close(): Promise<void>;
  /** The command failed on its own: `close` ends the log without an error that would hide the command's. */
  abandon(): void;
}

export const nullLogger: Logger = {
  log() {},
  async close() {},
  abandon() {},
};

/**
 * Appends JSON lines to `file` (its folder is created). A write that fails (a full disk) stops
 * the logging and is thrown by `close`, so the command ends with the disk's message.
 */
export function fileLogger(file: string): Logger {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const out = fs.createWriteStream(file, { flags: "a" });
  let failed: Error | undefined;
  let abandoned = false;
  out.on("error", (err) => (failed ??= err));
  return {
    log(level, event, fields = {}) {
      if (!failed) out.write(JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields }) + "\n");
    },
    close() {
      return new Promise((resolve, reject) => {
        const done = () => (failed && !abandoned ? reject(logFailure(file, failed)) : resolve());
        if (failed || out.destroyed) done();
        // end's callback hears of a failed write before the 'error' event does
        else
          out.end((err?: Error | null) => {
            if (err) failed ??= err;
            done();
          });
      });
    },
    abandon() {
      abandoned = true;
    },
  };
}

/**
 * A log write that failed, as the command's error: it keeps the cause's code (ENOSPC: a full
 * disk) and says that only the log is short; `logOnly` tells the message that the work is stored.
 */
function logFailure(file: string, err: Error): Error {
  return Object.assign(new Error(`writing the log ${file}: ${err.message}`, { cause: err }), { code: (err as { code?: unknown }).code, logOnly: true });
}

/** A logger that keeps lines in memory (tests). */
export function memoryLogger(): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    log(level, event, fields = {}) {
      lines.push({ level, event, ...fields });
    },
    async close() {},
    abandon() {},
  };
}
