import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/commands/index.js";
import { environmentProblem } from "../src/core/errors.js";
import { kebab } from "../src/core/options.js";
import { warcOptionSpecs } from "../src/config/warc.js";
import { fixture, runCli, tmpDir } from "./helpers.js";

const CC = fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz");

describe("mathcorpus CLI", () => {
  it("lists its commands and exit codes; no command is a usage error", async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toContain(`  ${name}`);
    expect(r.stdout).toMatch(/Exit codes: 0 ok/);
    expect((await runCli(["--help"])).code).toBe(0);
    expect((await runCli(["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("unknown command and unknown flag exit 2 with a pointer to help", async () => {
    const a = await runCli(["nope"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown command "nope"/);
    const b = await runCli(["pages", CC, "--bogus"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--bogus.*see mathcorpus pages --help/);
    const c = await runCli(["pages", CC, "--concurrency", "zero"]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--concurrency expects a number, got "zero"/);
  });

  it("a full disk, a folder that cannot be written and a damaged work store are said as such (exit 3), not as internal errors", async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "work.sqlite"), Buffer.alloc(4096, 7));
    const r = await runCli(["selected", "--run", dir]);
    expect([r.code, r.stderr]).toEqual([3, "mathcorpus selected: a database file is damaged or is not one of mathcorpus's (file is not a database): restore it, or start a new run (another --run DIR)\n"]);
    const e = (code: string, message = "x") => Object.assign(new Error(message), { code });
    expect(environmentProblem(e("ENOSPC", "ENOSPC: no space left on device, write"))).toBe("no space left on the disk (ENOSPC: no space left on device, write): free some and rerun; a run resumes where it stopped");
    expect(environmentProblem(e("SQLITE_FULL"))).toMatch(/^no space left on the disk/);
    expect(environmentProblem(e("EACCES"))).toMatch(/^cannot write here/);
    expect(environmentProblem(e("SQLITE_READONLY_DBMOVED"))).toMatch(/^cannot write here/);
    expect(environmentProblem(e("SQLITE_CORRUPT_INDEX"))).toMatch(/^a database file is damaged/);
    expect(environmentProblem(e("ERR_SOMETHING"))).toBeUndefined();
    expect(environmentProblem(new TypeError("a bug"))).toBeUndefined();
  });

  it("a stray argument is an error, not silently dropped; --no-NAME and NAME=false turn a boolean off", async () => {
    // it used to be ignored: `run SOURCE` ran the bundled sample, `clean --bundled-benchmarks false` kept them
    const a = await runCli(["run", "--dry-run", "data/crawl-sample.warc.gz"]);
    expect([a.code, a.stderr]).toEqual([2, 'mathcorpus run: unexpected argument "data/crawl-sample.warc.gz" (name sources with --sources SOURCE,...); run takes options only (see mathcorpus run --help)\n']);
    const b = await runCli(["clean", "--run", "x", "--bundled-benchmarks", "false"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("(--bundled-benchmarks takes no value: write --no-bundled-benchmarks or --bundled-benchmarks=false to turn it off)");
    for (const off of [["--no-bundled-benchmarks"], ["--bundled-benchmarks=false"]]) {
      const r = await runCli(["clean", "--run", "x", ...off, "--dry-run"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ bundledBenchmarks: false });
    }
    expect(JSON.parse((await runCli(["clean", "--run", "x", "--dry-run"])).stdout)).toMatchObject({ bundledBenchmarks: true });
    // commands that take sources still do; after --, an argument that looks like a flag is one
    const p = await runCli(["pages", "--jsonl", "--", CC]);
    expect(p.code, p.stderr).toBe(0);
    expect((await runCli(["clean", "--help"])).stdout).toContain("--no-bundled-benchmarks turns it off");
  });

  it("--help explains every flag of every command", async () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = await runCli([name, "--help"]);
      expect(r.code).toBe(0);
      if (["pages", "extract", "run", "round", "train", "score", "eval"].includes(name)) for (const flag of Object.keys(warcOptionSpecs)) expect(r.stdout).toContain(`--${kebab(flag)}`);
      // every option line carries help text
      for (const line of r.stdout.split("\n").filter((l) => /^\s+(-\w, )?--/.test(l))) expect(line.replace(/^\s+(-\w, )?--\S+( \S+)?/, "").trim().length + (line.length > 34 ? 1 : 0)).toBeGreaterThan(0);
      expect(r.stdout).toContain("--dry-run");
      expect(r.stdout).toContain("--config FILE");
    }
  });

  it("pages prints one line per page and a summary of drops by reason", async () => {
    const r = await runCli(["pages", CC]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(16);
    const cols = lines[0]!.split("\t");
    expect(cols).toHaveLength(8);
    expect(cols[1]).toBe(CC);
    expect(cols[4]).toBe("member");
    expect(r.stderr).toMatch(/pages: 16 pages from 1 file .* 50 records; dropped: request=17 metadata=16 warcinfo=1; input errors: 0/);
  });

  it("pages --jsonl, --stats and --log write machine-readable output", async () => {
    const dir = tmpDir();
    const r = await runCli(["pages", CC, "--jsonl", "--stats", path.join(dir, "s.json"), "--log", path.join(dir, "log.jsonl")]);
    expect(r.code).toBe(0);
    const first = JSON.parse(r.stdout.split("\n")[0]!) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(expect.arrayContaining(["url", "warc_file", "offset", "length", "status", "content_type", "truncated", "domain", "host"]));
    const stats = JSON.parse(fs.readFileSync(path.join(dir, "s.json"), "utf8")) as { pages: number; dropped: Record<string, number> };
    expect(stats.pages).toBe(16);
    expect(stats.dropped).toEqual({ metadata: 16, request: 17, warcinfo: 1 });
    const log = fs.readFileSync(path.join(dir, "log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { event: string });
    expect(log.map((l) => l.event)).toEqual(["sources", "file_done", "summary"]);
  });

  it("a missing source exits 3; a source that is not a WARC exits 4 and the others are still read", async () => {
    const missing = await runCli(["pages", "no/such/file.warc.gz"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no such file or directory: no\/such\/file\.warc\.gz/);
    const dir = tmpDir();
    const bad = path.join(dir, "bad.warc.gz");
    fs.writeFileSync(bad, "<html>oops</html>");
    const r = await runCli(["pages", bad, CC]);
    expect(r.code).toBe(4);
    expect(r.stdout.trim().split("\n")).toHaveLength(16);
    expect(r.stderr).toMatch(/warning: .*bad\.warc\.gz: not a WARC file/);
    expect(r.stderr).toMatch(/16 pages from 2 files \(1 failed\)/);
  });

  it("reads a folder of WARCs with bounded concurrency", async () => {
    const r = await runCli(["pages", fixture("warc"), "--concurrency", "3"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(16 + 1 + 100 + 6 + 22);
    expect(r.stderr).toMatch(/from 5 files/); // the .warc.wet.gz is not picked from a folder
  });

  it("walks a folder's subfolders, as a local Common Crawl mirror lays them out (segments/<id>/warc/; wet/ and hidden folders left)", async () => {
    const mirror = path.join(tmpDir(), "crawl-data", "CC-MAIN-2024-22");
    const seg = path.join(mirror, "segments", "1715971057216.39");
    for (const d of ["warc", "wet"]) fs.mkdirSync(path.join(seg, d), { recursive: true });
    fs.mkdirSync(path.join(mirror, ".partial"));
    fs.copyFileSync(fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.gz"), path.join(seg, "warc", "b.warc.gz"));
    fs.copyFileSync(fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz"), path.join(seg, "warc", "a.warc.gz"));
    fs.copyFileSync(fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.wet.gz"), path.join(seg, "wet", "b.warc.wet.gz"));
    fs.copyFileSync(CC, path.join(mirror, ".partial", "c.warc.gz"));
    const r = await runCli(["pages", mirror]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/from 2 files/);
    const files = [...new Set(r.stdout.trim().split("\n").map((l) => l.split("\t")[1]))].sort(); // files are read two at a time
    expect(files).toEqual([path.join(seg, "warc", "a.warc.gz"), path.join(seg, "warc", "b.warc.gz")]);
    const empty = path.join(tmpDir(), "none");
    fs.mkdirSync(path.join(empty, "sub"), { recursive: true });
    const e = await runCli(["pages", empty]);
    expect([e.code, e.stderr]).toEqual([3, expect.stringContaining(`directory ${empty} holds no .warc or .warc.gz files (its subfolders included)`)]);
  });

  it("config file < flags; --dry-run prints the resolved config", async () => {
    const dir = tmpDir();
    const cfg = path.join(dir, "c.json");
    fs.writeFileSync(cfg, JSON.stringify({ concurrency: 5, "max-record-bytes": "2MiB", pages: { limit: 3 } }));
    const r = await runCli(["pages", CC, "--config", cfg, "--concurrency", "4", "--dry-run"]);
    expect(r.code).toBe(0);
    const resolved = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(resolved).toMatchObject({ concurrency: 4, maxRecordBytes: 2 * 1024 * 1024, limit: 3, sources: [CC] });
    fs.writeFileSync(cfg, JSON.stringify({ nonsense: 1 }));
    const bad = await runCli(["pages", CC, "--config", cfg]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option "nonsense"/);
  });

  it("run --dry-run shows the sample run's resolved settings", async () => {
    const r = await runCli(["run", "--run", path.join(tmpDir(), "fresh"), "--dry-run"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ command: "run", maxRounds: 3, stopShare: 0.98, tokenBudget: 40000, fpr: 0.15, autoAccept: 0.5, domainShare: 0.1, bucket: 200000, dim: 256, paperSettings: false, unlabeledNegatives: true });
  });
});
