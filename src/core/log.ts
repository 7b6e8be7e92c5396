import fs from "node:fs";
import path from "node:path";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** JSON-lines log: one object a line, `ts`, `level`, `event`, then fields. */
export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  close(): Promise<void>;
}

export const nullLogger: Logger = {
  log() {},
  async close() {},
};

/**
 * Appends JSON lines to `file` (its folder is created). A write that fails (a full disk) stops
 * the logging and is thrown by `close`, so the command ends with the disk's message.
 */
export function fileLogger(file: string): Logger {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const out = fs.createWriteStream(file, { flags: "a" });
  let failed: Error | undefined;
  out.on("error", (err) => (failed ??= err));
  return {
    log(level, event, fields = {}) {
      if (!failed) out.write(JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields }) + "\n");
    },
    close() {
      return new Promise((resolve, reject) => {
        const done = () => (failed ? reject(failed) : resolve());
        if (failed || out.destroyed) done();
        else out.end(done);
      });
    },
  };
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
  };
}
