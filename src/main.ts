import { safeMessage } from "./core/terminal.js";
import { COMMANDS } from "./commands/index.js";
import { EXIT, MathcorpusError, environmentProblem, errorMessage } from "./core/errors.js";
import type { Io } from "./core/io.js";
import { packageVersion } from "./core/paths.js";

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return [
    "Usage: mathcorpus <command> [options]",
    "",
    "Builds mathematics pretraining corpora out of Common Crawl the way DeepSeekMath did.",
    "",
    "Commands:",
    ...rows,
    "",
    "Run `mathcorpus <command> --help` for a command's options.",
    "Exit codes: 0 ok, 1 internal error, 2 bad usage or config, 3 unusable input (or disk full, no permission, a damaged store), 4 some sources failed, 5 verification failed, 130 interrupted.",
    "",
  ].join("\n");
}

/** The CLI: returns an exit code and writes only to the given streams. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(topHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    io.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr.write(`mathcorpus: unknown command "${name}"\n\n${topHelp()}`);
    return EXIT.usage;
  }
  try {
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (err) {
    if (io.signal?.aborted) {
      io.stderr.write("mathcorpus: interrupted\n");
      return EXIT.interrupted;
    }
    if (err instanceof MathcorpusError) {
      // messages name their command ("clean: …") where they are used alone: said once here
      io.stderr.write(`mathcorpus ${name}: ${safeMessage(err.message.startsWith(`${name}: `) ? err.message.slice(name.length + 2) : err.message)}\n`);
      return err.exitCode;
    }
    const env = environmentProblem(err);
    if (env) {
      io.stderr.write(`mathcorpus ${name}: ${safeMessage(env)}\n`);
      return EXIT.input;
    }
    io.stderr.write(`mathcorpus ${name}: internal error: ${errorMessage(err)}\n${err instanceof Error && err.stack ? err.stack + "\n" : ""}`);
    return EXIT.internal;
  }
}
