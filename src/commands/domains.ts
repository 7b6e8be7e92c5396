import { safeField } from "../core/terminal.js";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EXIT, InputError, UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { type Decision, checkPrefix, recordDecisions } from "../rounds/annotate.js";
import { openRunLocked } from "../store/lock.js";
import { WorkStore } from "../store/store.js";
import type { Command } from "./command.js";

const specs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "run directory" },
  round: { type: "number", arg: "N", help: "round to show (default: the last finished one)" },
  accept: { type: "list", default: [], arg: "PREFIX,...", help: "accept URL prefixes (host/ or host/seg/ or host/seg/seg/, or written as URLs: https://host/seg): their unselected pages become seeds next round" },
  reject: { type: "list", default: [], arg: "PREFIX,...", help: "reject URL prefixes (recorded; never promoted)" },
  annotations: { type: "string", arg: "FILE", help: "TSV of decisions: prefix <TAB> accept|reject [<TAB> note] (a header row, CRLF and a BOM are fine; # starts a comment line)" },
  autoAccept: { type: "number", arg: "SHARE", help: "accept every listed prefix whose selected share is at least SHARE" },
  who: { type: "string", default: os.userInfo().username, arg: "NAME", help: "who makes these decisions (recorded with the time)" },
  json: { type: "boolean", default: false, help: "print math-related hosts and prefixes as JSON" },
} as const satisfies OptionSpecs;

interface Host { host: string; pages: number; selected: number; share: number }
interface Prefix { prefix: string; host: string; depth: number; pages: number; selected: number; share: number; decision: string | null; who?: string | null; at?: string | null; note?: string | null }

export const command: Command = {
  name: "domains",
  summary: "math-related hosts and their URL prefixes; record accept/reject decisions",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("domains", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("domains", "--run DIR [options]", "Show a round's math-related hosts and URL prefixes; annotate prefixes.", specs, "A host is math-related when more than --domain-share of its pages were selected (set by the round)."));
      return EXIT.ok;
    }
    const o = cl.options;
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "domains", ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    if (o.autoAccept !== undefined && !(o.autoAccept >= 0 && o.autoAccept <= 1)) throw new UsageError(`--auto-accept expects a share from 0 to 1, got ${o.autoAccept}`);
    const runDir = path.resolve(io.cwd, o.run);
    // recording decisions changes the run: not while a round is running on it
    const writes = o.accept.length > 0 || o.reject.length > 0 || o.annotations !== undefined || o.autoAccept !== undefined;
    let store: WorkStore;
    let close: () => void;
    if (writes) ({ store, close } = openRunLocked(runDir, "domains"));
    else {
      store = WorkStore.openRun(runDir);
      close = () => store.close();
    }
    try {
      const round = store.finishedRound(o.run, o.round, "yet");
      const decisions: Array<[string, string, string]> = [
        ...o.accept.map((p) => [p, "accept", ""] as [string, string, string]),
        ...o.reject.map((p) => [p, "reject", ""] as [string, string, string]),
      ];
      if (o.annotations) {
        const file = path.resolve(io.cwd, o.annotations);
        let text: string;
        try {
          text = fs.readFileSync(file, "utf8");
        } catch (err) {
          throw new InputError(`cannot read annotations file ${file}: ${(err as Error).message}`);
        }
        // as spreadsheets save TSV too: a BOM, CRLF line ends, a header row, Accept in any case
        const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
        lines.forEach((line, i) => {
          if (!line.trim() || line.startsWith("#")) return;
          const [prefix, decisionText, note] = line.split("\t");
          const decision = decisionText?.trim().toLowerCase();
          if (i === 0 && decision === "decision") return;
          if (!prefix?.trim() || (decision !== "accept" && decision !== "reject")) throw new UsageError(`${o.annotations}:${i + 1}: expected "prefix<TAB>accept|reject[<TAB>note]", got ${JSON.stringify(line)}`);
          decisions.push([prefix.trim(), decision, (note ?? "").trim()]);
        });
      }
      const prefixes = store.db.prepare("SELECT p.*, a.decision FROM prefix_stats p LEFT JOIN annotations a ON a.prefix = p.prefix WHERE p.round = ? ORDER BY p.host, p.depth, p.prefix").all(round) as Prefix[];
      if (o.autoAccept !== undefined) for (const p of prefixes) if (p.share >= o.autoAccept) decisions.push([p.prefix, "accept", `auto-accept ${o.autoAccept}`]);
      // every prefix is checked before any is recorded: one bad prefix records nothing
      for (const d of decisions) d[0] = checkPrefix(d[0]);
      const known = new Set(prefixes.map((p) => p.prefix));
      const unknown = [...new Set(decisions.map(([p]) => p).filter((p) => !known.has(p)))];
      if (unknown.length > 0) {
        io.stderr.write(`warning: not among round ${round}'s prefixes of math-related hosts (recorded anyway; check for a typo): ${unknown.slice(0, 10).join(" ")}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ""}\n`);
      }
      recordDecisions(
        store,
        decisions.map(([prefix, decision, note]) => ({ prefix, decision: decision as Decision, note })),
        o.who,
        round,
      );
      const hosts = store.db.prepare("SELECT host, pages, selected, share FROM domain_stats WHERE round = ? AND math_related = 1 ORDER BY selected DESC, host").all(round) as Host[];
      const listed = store.db.prepare("SELECT p.*, a.decision, a.who, a.at, a.note FROM prefix_stats p LEFT JOIN annotations a ON a.prefix = p.prefix WHERE p.round = ? ORDER BY p.host, p.depth, p.prefix").all(round) as Prefix[];
      if (o.json) {
        io.stdout.write(JSON.stringify({ round, hosts: hosts.map((h) => ({ ...h, prefixes: listed.filter((p) => p.host === h.host) })) }, null, 2) + "\n");
      } else {
        io.stdout.write(`round ${round}: ${hosts.length} math-related host${hosts.length === 1 ? "" : "s"}\n`);
        for (const h of hosts) {
          io.stdout.write(`${safeField(h.host)}\t${h.selected}/${h.pages} selected (${(100 * h.share).toFixed(1)}%)\n`);
          for (const p of listed.filter((x) => x.host === h.host)) io.stdout.write(`  ${safeField(p.prefix)}\t${p.selected}/${p.pages} (${(100 * p.share).toFixed(1)}%)\t${p.decision ?? "-"}\n`);
        }
      }
      if (decisions.length) io.stderr.write(`domains: recorded ${decisions.length} decision${decisions.length === 1 ? "" : "s"} by ${o.who}; they apply from the next round\n`);
      return EXIT.ok;
    } finally {
      close();
    }
  },
};
