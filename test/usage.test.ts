import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli, tmpDir } from "./helpers.js";

/**
 * Bad usage ([harden] #19, finding 3): a clear message and exit 2 (usage) or 3 (input), never a
 * stack trace (exit 1), and output paths checked before any work is done.
 */
const SAMPLE = path.join(ROOT, "data", "crawl-sample.warc.gz");
const STACK = /\n\s+at .*:\d+:\d+/;

describe("bad usage gets a message, not a stack trace", () => {
  const dir = tmpDir();
  const file = path.join(dir, "a-file");
  fs.writeFileSync(file, "x");
  const cases: Array<[string, string[], number, RegExp]> = [
    ["pages --stats DIR", ["pages", SAMPLE, "--stats", dir], 2, /--stats .*: is a folder; name a file to write/],
    ["pages --stats in a missing folder", ["pages", SAMPLE, "--stats", "/missing/dir/s.json"], 2, /--stats \/missing\/dir\/s\.json: the folder \/missing\/dir does not exist/],
    ["pages --log DIR", ["pages", SAMPLE, "--log", dir], 2, /--log .*: is a folder; name a file to write/],
    ["pages --log in a missing folder", ["pages", SAMPLE, "--log", path.join(dir, "missing", "x.log")], 2, /--log .*\/missing\/x\.log: the folder .*\/missing does not exist/],
    ["extract --stats DIR", ["extract", SAMPLE, "--stats", dir], 2, /--stats .*: is a folder/],
    ["round --run FILE/sub", ["round", "--run", path.join(file, "sub")], 2, /--run .*a-file\/sub: .*a-file is a file, not a folder/],
    ["run --run FILE", ["run", "--run", file], 2, /--run .*a-file is a file, not a run directory/],
    ["export --out FILE/sub", ["export", "--run", path.join(dir, "r"), "--out", path.join(file, "sub")], 2, /--out .*a-file\/sub: .*a-file is a file, not a folder/],
    ["verify on a missing folder", ["verify", path.join(dir, "nothing-here")], 3, /verify: .*nothing-here: no such folder/],
    ["--threads -1", ["extract", SAMPLE, "--threads", "-1"], 2, /--threads expects a whole number from 0 to 256, got -1/],
    ["--threads=-1", ["extract", SAMPLE, "--threads=-1"], 2, /--threads expects a whole number from 0 to 256, got -1/],
    ["--max-rounds -2", ["run", "--run", path.join(dir, "r"), "--max-rounds", "-2"], 2, /--max-rounds .*-2/],
    ["--fpr -0.5", ["round", "--run", path.join(dir, "r"), "--fpr", "-0.5"], 2, /--fpr .*-0\.5/],
  ];
  for (const [label, argv, code, message] of cases) {
    it(label, async () => {
      const r = await runCli(argv);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).not.toMatch(/ambiguous/);
      expect(r.code).toBe(code);
    });
  }

  it("--log in a missing folder does not create it", async () => {
    const missing = path.join(dir, "not-made", "x.log");
    await runCli(["pages", SAMPLE, "--log", missing]);
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
  });

  it("output paths are checked before the work: nothing is read from the source", async () => {
    const t0 = Date.now();
    const r = await runCli(["pages", SAMPLE, "--stats", dir, "--jsonl"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});

describe("a log that the disk cannot take (/dev/full)", () => {
  const WHIRL = path.join(ROOT, "test", "fixtures", "warc", "whirlwind.CC-MAIN-2024-22.warc.gz");
  it.skipIf(!fs.existsSync("/dev/full"))("says the work is stored when only the log failed, and never hides the command's own error behind the log's", async () => {
    const done = await runCli(["pages", WHIRL, "--log", "/dev/full"]);
    expect(done.code).toBe(3);
    expect(done.stderr).toMatch(/no space left on the disk \(writing the log \/dev\/full: ENOSPC[^)]*\): the command's work is done and stored; only its log lacks the lines from then on/);
    expect(done.stderr).not.toMatch(STACK);
    // the only negatives are a broken WARC: its issue is logged (the write fails), then train fails on its own
    const broken = path.join(tmpDir(), "broken.warc");
    fs.writeFileSync(broken, "WARC/1.0\r\nbroken");
    const failed = await runCli(["train", "--seeds", path.join(ROOT, "seeds"), "--negatives", broken, "--out", path.join(tmpDir(), "m.bin"), "--log", "/dev/full"]);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/mathcorpus train: no negative training documents/);
    expect(failed.stderr).not.toMatch(/writing the log|work is done/);
  });

  it.skipIf(!fs.existsSync("/dev/full"))("a log whose only line fails is not taken as written; abandoned, it closes quietly", async () => {
    const { fileLogger } = await import("../src/core/log.js");
    const one = fileLogger("/dev/full");
    one.log("info", "x");
    await expect(one.close()).rejects.toMatchObject({ code: "ENOSPC", logOnly: true, message: expect.stringMatching(/^writing the log \/dev\/full: /) });
    const left = fileLogger("/dev/full");
    left.log("info", "x");
    left.abandon();
    await expect(left.close()).resolves.toBeUndefined();
  });
});
