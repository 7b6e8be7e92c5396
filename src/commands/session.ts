import { safeMessage } from "../core/terminal.js";
import path from "node:path";
import type { Io } from "../core/io.js";
import { type Logger, fileLogger, nullLogger } from "../core/log.js";
import { checkOutputFile } from "../core/outputs.js";

/** A command's logger and its warn-once channel to stderr. */
export interface Session {
  logger: Logger;
  warn: (message: string) => void;
  close(): Promise<void>;
  /** The command failed: `close` will not throw a log error over the command's own. */
  abandon(): void;
}

/**
 * `beforeWarning` clears a progress line before a warning is printed. A log file the user named
 * (`flag`, e.g. `--log`) must be a file in a folder that exists; one the run keeps is made with its folder.
 */
export function openSession(io: Io, logFile: string | undefined, beforeWarning?: () => void, flag?: string): Session {
  if (logFile && flag) checkOutputFile(flag, path.resolve(io.cwd, logFile), logFile);
  const logger: Logger = logFile ? fileLogger(path.resolve(io.cwd, logFile)) : nullLogger;
  const warned = new Set<string>();
  return {
    logger,
    warn(message) {
      logger.log("warn", "warning", { message });
      const key = message.replace(/\d+/g, "#").slice(0, 60);
      if (warned.has(key) || warned.size >= 20) return;
      warned.add(key);
      beforeWarning?.();
      io.stderr.write(`warning: ${safeMessage(message)}\n`);
    },
    close: () => logger.close(),
    abandon: () => logger.abandon(),
  };
}
