import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CLI, type Row, ROOT, STACK, note, rng, row } from "./common.js";

/**
 * Bad usage: every command with one of its flags given a hostile value (negative, huge, not a
 * number, empty, a file where a folder is wanted, a path through a file, a terminal escape...),
 * plus the invocations the first campaign found. Each must end with exit 0, 2, 3, 4 or 5, say
 * why on stderr when it fails, print no stack trace and no raw control byte.
 */
const WHIRL = path.join(ROOT, "test", "fixtures", "warc", "whirlwind.CC-MAIN-2024-22.warc.gz");

/** Runs the CLI in `cwd` (a scratch folder: a hostile value may name a file to write there). */
function cli(argv: string[], timeoutMs: number, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...argv], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let hung = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("latin1")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("latin1")));
    const timer = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, hung });
    });
  });
}

/** The value-taking flags of a command, read from its --help. */
async function flagsOf(command: string, cwd: string): Promise<string[]> {
  const help = await cli([command, "--help"], 30_000, cwd);
  return [...help.stdout.matchAll(/^\s+(--[a-z0-9-]+) [A-Z]/gm)].map((m) => m[1]!).filter((f) => f !== "--config");
}

export async function usageFuzz(count: number, seed: number, tmp: string, runDir: string): Promise<Row> {
  const r = row("bad usage");
  const R = rng(seed);
  if (!fs.existsSync(path.join(runDir, "work.sqlite"))) {
    const made = spawnSync(process.execPath, [CLI, "round", "--run", runDir, "--bucket", "20000", "--deterministic"], { encoding: "utf8" });
    if (made.status !== 0) throw new Error(`the round the usage cases look at failed: ${made.stderr}`);
  }
  const dir = fs.mkdtempSync(path.join(tmp, "usage-"));
  const file = path.join(dir, "a-file");
  fs.writeFileSync(file, "x");
  const badJson = path.join(dir, "bad.json");
  fs.writeFileSync(badJson, "{ not json");
  const hostile = ["-1", "0", "-0.5", "1e400", "NaN", "abc", "", "/nonexistent/dir/x", file, dir, path.join(file, "sub"), "x".repeat(5000), "\x1b[31mred\x07", "--json", "1,,2", "0x10", " 5 ", "-", "99999999999999999999", "\u00e9\u{1F4A5}"];
  // light commands do their work; heavy ones only resolve their options (--dry-run)
  const base: Record<string, string[]> = {
    pages: [WHIRL],
    extract: [WHIRL],
    domains: ["--run", runDir],
    selected: ["--run", runDir],
    status: ["--run", runDir],
    round: ["--run", path.join(dir, "r"), "--dry-run"],
    run: ["--run", path.join(dir, "r"), "--dry-run"],
    clean: ["--run", runDir, "--dry-run"],
    export: ["--run", runDir, "--dry-run"],
    train: ["--seeds", WHIRL, "--negatives", WHIRL, "--out", path.join(dir, "m.bin"), "--dry-run"],
    score: [WHIRL, "--model", path.join(dir, "m.bin"), "--dry-run"],
    eval: ["--run", runDir, "--dry-run"],
  };
  const flags: Record<string, string[]> = {};
  for (const c of Object.keys(base)) flags[c] = await flagsOf(c, dir);
  const cases: string[][] = [
    // found by the first campaign
    ["pages", WHIRL, "--stats", dir],
    ["pages", WHIRL, "--stats", "/missing/dir/s.json"],
    ["pages", WHIRL, "--log", dir],
    ["pages", WHIRL, "--log", path.join(dir, "missing", "x.log")],
    ["round", "--run", path.join(file, "sub")],
    ["verify", path.join(dir, "nothing-here")],
    ["extract", WHIRL, "--threads", "-1"],
    // beyond it
    ["verify", file],
    ["verify"],
    ["nonsense-command"],
    ["pages"],
    ["pages", "/nonexistent.warc.gz"],
    ["pages", WHIRL, "--no-such-flag"],
    ["pages", WHIRL, "--config", badJson],
    ["pages", WHIRL, "--config", "/nonexistent.json"],
    ["domains", "--run", runDir, "--accept", "not a prefix"],
    ["domains", "--run", runDir, "--annotations", file],
    ["selected", "--run", file],
    ["status", "--run", path.join(dir, "none")],
    ["score", WHIRL, "--model", file],
    ["eval", "--model", file, "--seeds", WHIRL, "--negatives", WHIRL],
  ];
  const commands = Object.keys(base);
  while (cases.length < count) {
    const c = R.pick(commands);
    const argv = [c, ...base[c]!];
    for (let k = 1 + R.int(2); k > 0; k--) argv.push(R.pick(flags[c]!), R.pick(hostile));
    cases.push(argv);
  }
  const shown = (argv: string[]) => JSON.stringify(argv.map((a) => (a.length > 40 ? `${a.slice(0, 20)}…(${a.length})` : a))).replace(/\\u001b/g, "ESC");
  for (const argv of cases) {
    r.tried++;
    const res = await cli(argv, 120_000, dir);
    if (res.hung) {
      r.hung++;
      note(r, `${shown(argv)}: no end in 120 s`, true);
      continue;
    }
    const bad =
      res.code === null || res.code === 1 || ![0, 2, 3, 4, 5].includes(res.code)
        ? `exit ${res.code}`
        : STACK.test(res.stderr)
          ? "a stack trace"
          : res.code !== 0 && res.stderr.trim() === ""
            ? `exit ${res.code} with nothing said`
            : /[\x1b\x07]/.test(res.stderr) || (/[\x1b\x07]/.test(res.stdout) && !argv.includes("--json") && !argv.includes("--jsonl"))
              ? "a raw control byte printed"
              : undefined;
    if (bad) {
      r.crashed++;
      note(r, `${shown(argv)}: ${bad}: ${res.stderr.trim().split("\n").slice(-2).join(" | ").slice(0, 300)}`, true);
    }
  }
  return r;
}
