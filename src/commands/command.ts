import type { Io } from "../core/io.js";

/** A CLI command: parses its own argv and returns an exit code. */
export interface Command {
  name: string;
  summary: string;
  run(argv: string[], io: Io): Promise<number>;
}
