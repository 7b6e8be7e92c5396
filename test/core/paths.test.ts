import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { filesUnder, shownPath } from "../../src/core/paths.js";
import { fixture, runCli, tmpDir } from "../helpers.js";

const WARC = /\.warc(\.gz)?$/;

/**
 * A local Common Crawl mirror whose second segment lies on another disk (a symlinked folder),
 * with a link back up the tree, the other segment linked a second time, a symlinked file and
 * a link whose file is gone.
 */
function mirror(): string {
  const root = tmpDir("mc-links-");
  const cc = path.join(root, "cc");
  fs.mkdirSync(path.join(cc, "segments", "a", "warc"), { recursive: true });
  fs.mkdirSync(path.join(root, "other-disk", "warc"), { recursive: true });
  fs.mkdirSync(path.join(cc, ".hidden"), { recursive: true });
  fs.copyFileSync(fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.gz"), path.join(cc, "segments", "a", "warc", "one.warc.gz"));
  fs.copyFileSync(fixture("warc", "dolma-wget-sample-0000.warc.gz"), path.join(root, "other-disk", "warc", "two.warc.gz"));
  fs.copyFileSync(fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.gz"), path.join(cc, ".hidden", "x.warc.gz"));
  fs.symlinkSync(path.join(root, "other-disk"), path.join(cc, "segments", "b"));
  fs.symlinkSync(path.join(root, "other-disk"), path.join(cc, "segments", "c-again"));
  fs.symlinkSync(cc, path.join(cc, "segments", "loop"));
  fs.symlinkSync(path.join(cc, "segments", "a", "warc", "one.warc.gz"), path.join(cc, "linked.warc.gz"));
  fs.symlinkSync(path.join(root, "gone.warc.gz"), path.join(cc, "segments", "gone.warc.gz"));
  return cc;
}

describe("folder walks (core/paths filesUnder)", () => {
  it("follow symlinked folders and files, walk each folder once (no loop through a link back up, no second read of a folder linked twice), keep a dangling link so that reading it fails by name", async () => {
    const cc = mirror();
    expect(filesUnder(cc, (n) => WARC.test(n))).toEqual([
      "linked.warc.gz",
      path.join("segments", "a", "warc", "one.warc.gz"),
      path.join("segments", "b", "warc", "two.warc.gz"),
      path.join("segments", "gone.warc.gz"),
    ]);
    // the crawl reads both segments; the dangling link is a failed source named in the warning and the stats
    const stats = path.join(path.dirname(cc), "stats.json");
    const r = await runCli(["pages", cc, "--stats", stats]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/warning: .*segments\/gone\.warc\.gz: ENOENT/);
    const s = JSON.parse(fs.readFileSync(stats, "utf8")) as { files: number; files_failed: number; pages: number; dropped: Record<string, number> };
    expect(s.files).toBe(4);
    expect(s.files_failed).toBe(1);
    expect(s.dropped.source_failed).toBe(1);
    const files = r.stdout
      .trim()
      .split("\n")
      .map((l) => path.relative(cc, l.split("\t")[1]!));
    const perFile = Object.fromEntries([...new Set(files)].map((f) => [f, files.filter((x) => x === f).length]));
    expect(perFile).toEqual({ "linked.warc.gz": 1, [path.join("segments", "a", "warc", "one.warc.gz")]: 1, [path.join("segments", "b", "warc", "two.warc.gz")]: 22 });
    expect(s.pages).toBe(24);
  });
});

describe("paths in messages (core/paths shownPath)", () => {
  it("are relative inside the working folder and absolute outside it", () => {
    const cwd = path.resolve("/work/project");
    expect(shownPath(cwd, "runs/a")).toBe(path.join("runs", "a"));
    expect(shownPath(cwd, path.join(cwd, "runs", "a"))).toBe(path.join("runs", "a"));
    expect(shownPath(cwd, cwd)).toBe(".");
    expect(shownPath(cwd, "/tmp/run")).toBe(path.resolve("/tmp/run"));
    expect(shownPath(cwd, "../other/run")).toBe(path.resolve("/work/other/run"));
    // a name that only begins with two dots is inside
    expect(shownPath(cwd, "..data/x")).toBe(path.join("..data", "x"));
  });
});
