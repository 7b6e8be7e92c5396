import os from "node:os";
import path from "node:path";
import { EXIT, UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { startReview } from "../review/server.js";
import { RunStores } from "../store/stores.js";
import type { Command } from "./command.js";
import { openSession } from "./session.js";

const specs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "run directory" },
  round: { type: "number", arg: "N", help: "round to review (default: the last finished one, re-read at each page load)" },
  port: { type: "number", default: 8377, arg: "N", help: "port to listen on (0: a free port the system picks)" },
  host: { type: "string", default: "127.0.0.1", arg: "ADDR", help: "address to bind; anything but 127.0.0.1 lets other machines reach the page (the session token still guards decisions)" },
  annotator: { type: "string", default: os.userInfo().username, arg: "NAME", help: "who the decisions are recorded as (with the time), as `domains --who`" },
  hostsPerPage: { type: "number", default: 20, arg: "N", help: "math-related hosts per page" },
  samples: { type: "number", default: 3, arg: "K", help: "sample pages shown per prefix from those accepting it would make seeds (and up to 2 it selected)" },
  log: { type: "string", arg: "FILE", help: "append JSON-lines logs (each decision) to FILE" },
} as const satisfies OptionSpecs;

const details = `Open the printed address in a browser. Hosts come most consequential first: their undecided
prefixes with the most pages that accepting would make seeds. Accept, reject or skip each prefix
with the buttons or the keys a, r, s (j/k move, n writes a note). A decision is recorded in the
run's store as \`domains --accept/--reject\` records it (who, when, the round, the note), shown at
once by \`mathcorpus domains --json\`, and applies from the next round. While a round holds the
run, decisions are refused with a message on the page. Stop the server with Ctrl-C.`;

export const command: Command = {
  name: "review",
  summary: "a local web page to review math-related hosts' URL prefixes and accept or reject them",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("review", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("review", "--run DIR [--port N] [--host ADDR] [--annotator NAME]", "Serve a page for reviewing and annotating a round's URL prefixes.", specs, details));
      return EXIT.ok;
    }
    const o = cl.options;
    if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new UsageError(`--port expects 0 to 65535, got ${o.port}`);
    if (!Number.isInteger(o.hostsPerPage) || o.hostsPerPage < 1) throw new UsageError(`--hosts-per-page expects a whole number ≥ 1, got ${o.hostsPerPage}`);
    if (!Number.isInteger(o.samples) || o.samples < 0) throw new UsageError(`--samples expects a whole number ≥ 0, got ${o.samples}`);
    if (!o.annotator.trim()) throw new UsageError("--annotator must name someone");
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "review", ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    const runDir = path.resolve(io.cwd, o.run);
    // a run without a finished round is said at once, not on the first page load
    const stores = RunStores.openRun(runDir);
    try {
      stores.coord.finishedRound(o.run, o.round, "to review");
    } finally {
      stores.close();
    }
    const session = openSession(io, o.log, undefined, "--log");
    try {
      const server = await startReview({
        runDir,
        shown: o.run,
        host: o.host,
        port: o.port,
        annotator: o.annotator.trim(),
        ...(o.round !== undefined ? { round: o.round } : {}),
        hostsPerPage: o.hostsPerPage,
        samples: { unselected: o.samples, selected: Math.min(2, o.samples) },
        logger: session.logger,
      });
      io.stderr.write(`review: ${server.url} (run ${o.run}; decisions recorded as ${o.annotator}; Ctrl-C stops)\n`);
      if (o.host !== "127.0.0.1" && o.host !== "::1" && o.host !== "localhost") io.stderr.write(`review: warning: listening on ${o.host}: other machines that reach it can read the run's pages\n`);
      await new Promise<void>((resolve) => {
        if (!io.signal) return; // with no signal to stop it (an in-process caller that gave none) it serves until the process ends
        if (io.signal.aborted) resolve();
        else io.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      await server.close();
      io.stderr.write("review: stopped\n");
      return EXIT.ok;
    } finally {
      await session.close();
    }
  },
};
