import type { Io } from "../core/io.js";
import type { Command } from "./command.js";
import { runRounds } from "./rounds.js";

export const command: Command = {
  name: "round",
  summary: "run the next crawl-filter round of a run",
  run: (argv: string[], io: Io) => runRounds("round", argv, io),
};
