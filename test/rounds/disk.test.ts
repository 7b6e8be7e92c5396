import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { modelFileProblem } from "../../src/classify/linear.js";
import { ROOT, runCli, tmpDir } from "../helpers.js";

/**
 * A full disk while the model is written ([harden] #19, finding 2). The run folder is a real
 * 30 MB tmpfs, mounted in a private mount namespace (`unshare -Urm`, no root needed where user
 * namespaces are allowed): the crawl fits, the ~40 MB model does not.
 */
const CLI = path.join(ROOT, "dist", "src", "cli.js");
const FLAGS = ["--bucket", "20000", "--deterministic", "--json"];
const canMount = spawnSync("unshare", ["-Urm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /tmp && echo ok"], { encoding: "utf8" }).stdout?.trim() === "ok";

function step(runDir: string): string | undefined {
  const db = new Database(path.join(runDir, "work.sqlite"), { readonly: true });
  try {
    return db.prepare("SELECT step FROM rounds WHERE round = 1").pluck().get() as string | undefined;
  } finally {
    db.close();
  }
}

describe("a full disk while the model is written", () => {
  it.skipIf(!canMount)("fails naming the disk, does not advance the round, and a rerun with room trains again and finishes", () => {
    const dir = tmpDir();
    const mnt = path.join(dir, "disk");
    const full = path.join(dir, "after-full");
    fs.mkdirSync(mnt);
    // one namespace for both attempts: the tmpfs lives as long as the script; the run folder is
    // copied out after each attempt to be looked at here
    const script = [
      "set -u",
      `mount -t tmpfs -o size=30m tmpfs "$1"`,
      `node "$2" round --run "$1/run" ${FLAGS.join(" ")} > "$3/out1.json" 2> "$3/err1.txt"; echo $? > "$3/code1"`,
      `cp -r "$1/run" "$3/after-full"`,
      `mount -o remount,size=300m "$1"`,
      `node "$2" round --run "$1/run" ${FLAGS.join(" ")} > "$3/out2.json" 2> "$3/err2.txt"; echo $? > "$3/code2"`,
      `cp -r "$1/run" "$3/after-rerun"`,
    ].join("\n");
    const r = spawnSync("unshare", ["-Urm", "sh", "-c", script, "sh", mnt, CLI, dir], { cwd: ROOT, encoding: "utf8", timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    expect(read("code1").trim()).toBe("3");
    expect(read("err1.txt")).toMatch(/no space left on the disk \(fastText could not write the whole model .*(model|pu-fold-[01])\.bin \(the input matrix runs past the end of the file.*\); \d+ bytes are left on the disk holding .*The round is not advanced: the model is trained again on rerun\)/);
    expect(read("err1.txt")).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(["ingest", "train"]).toContain(step(full)); // not "score": the round did not advance
    expect(fs.existsSync(path.join(full, "models", "round-1", "model.bin"))).toBe(false);
    expect(fs.readdirSync(path.join(full, "models", "round-1")).filter((f) => /partial|\.vec|\.train/.test(f))).toEqual([]);
    expect(read("code2").trim()).toBe("0");
    const rerun = path.join(dir, "after-rerun");
    expect(step(rerun)).toBe("done");
    expect(modelFileProblem(path.join(rerun, "models", "round-1", "model.bin"))).toBeUndefined();
    expect((JSON.parse(read("out2.json")) as { rounds: Array<{ selected: number }> }).rounds[0]!.selected).toBeGreaterThan(0);
  }, 300_000);

  it("a model damaged in place by an older version is trained again with a warning, not refused on every rerun", async () => {
    const runDir = path.join(tmpDir(), "run");
    const first = await runCli(["round", "--run", runDir, ...FLAGS]);
    expect(first.code, first.stderr).toBe(0);
    const model = path.join(runDir, "models", "round-1", "model.bin");
    fs.truncateSync(model, 3_000_000);
    const db = new Database(path.join(runDir, "work.sqlite"));
    db.prepare("UPDATE rounds SET step = 'score' WHERE round = 1").run();
    db.close();
    const again = await runCli(["round", "--run", runDir, ...FLAGS]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/round 1: models\/round-1\/model\.bin is damaged \(the input matrix runs past the end of the file .*\): training it again/);
    expect(modelFileProblem(model)).toBeUndefined();
    expect(step(runDir)).toBe("done");
  }, 120_000);
});
