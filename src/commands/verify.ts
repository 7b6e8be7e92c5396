import fs from "node:fs";
import path from "node:path";
import { EXIT, InputError, UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { readManifest, verifyShards } from "../export/verify.js";
import type { Command } from "./command.js";

const specs = {} as const satisfies OptionSpecs;

export const command: Command = {
  name: "verify",
  summary: "check a shard set against its manifest (presence, size, sha256, counts, schema)",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("verify", specs, argv, io.cwd, true);
    if (cl.help) {
      io.stdout.write(renderHelp("verify", "DIR", "Check every shard against manifest.json; exit 5 on any mismatch.", specs));
      return EXIT.ok;
    }
    const [dir] = cl.positionals;
    if (!dir || cl.positionals.length > 1) throw new UsageError("verify: name one export folder");
    const abs = path.resolve(io.cwd, dir);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new InputError(`verify: ${dir}: no such folder`);
    const problems = verifyShards(abs);
    if (problems.length) {
      io.stderr.write(`verify: ${dir}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
      return EXIT.verifyFailed;
    }
    const m = readManifest(abs);
    io.stdout.write(`verify: ${dir}: ok: ${m.shards.length} shards, ${m.documents} documents, ${m.tokens} tokens match the manifest\n`);
    return EXIT.ok;
  },
};
