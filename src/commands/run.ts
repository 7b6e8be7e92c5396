import type { Io } from "../core/io.js";
import type { Command } from "./command.js";
import { runRounds } from "./rounds.js";

export const command: Command = {
  name: "run",
  summary: "run the pipeline: crawl-filter rounds until convergence",
  run: (argv: string[], io: Io) => runRounds("run", argv, io),
};
