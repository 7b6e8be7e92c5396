import path from "node:path";
import type { Io } from "../core/io.js";
import { type Logger, fileLogger, nullLogger } from "../core/log.js";

/** A command's logger and its warn-once channel to stderr. */
export interface Session {
  logger: Logger;
  warn: (message: string) => void;
  close(): Promise<void>;
}

/** `beforeWarning` clears a progress line before a warning is printed. */
export function openSession(io: Io, logFile: string | undefined, beforeWarning?: () => void): Session {
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
      io.stderr.write(`warning: ${message}\n`);
    },
    close: () => logger.close(),
  };
}
