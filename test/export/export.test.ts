import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { ShardReader } from "../../src/export/reader.js";
import { exportIds } from "../../src/export/shards.js";
import { main } from "../../src/main.js";
import { ROOT, runCli, tmpDir } from "../helpers.js";

const CLI = path.join(ROOT, "dist", "src", "cli.js");
let run: string;
/** The cleaned selection: export id (the WARC-Record-ID) → sha256 of text, straight from the work store. */
let expected: Map<string, string>;

function pyRead(dir: string, rank: number, world: number): Array<{ id: string; sha256: string }> {
  const out = execFileSync("python3", [path.join(ROOT, "scripts", "read_shards.py"), dir, "--rank", String(rank), "--world", String(world)], { encoding: "utf8" });
  return out.trim() ? out.trim().split("\n").map((l) => JSON.parse(l) as { id: string; sha256: string }) : [];
}

async function tsRead(dir: string, rank: number, world: number): Promise<Array<{ id: string; sha256: string }>> {
  const out: Array<{ id: string; sha256: string }> = [];
  for await (const d of new ShardReader(dir, rank, world)) {
    expect(crypto.createHash("sha256").update(d.text).digest("hex")).toBe(d.sha256);
    out.push({ id: d.id, sha256: d.sha256 });
  }
  return out;
}

function readAllRanks(read: (rank: number) => Array<{ id: string; sha256: string }>, world: number): Map<string, string> {
  const seen = new Map<string, string>();
  for (let r = 0; r < world; r++) {
    for (const d of read(r)) {
      expect(seen.has(d.id), `${d.id} read twice`).toBe(false);
      seen.set(d.id, d.sha256);
    }
  }
  return seen;
}

beforeAll(async () => {
  const dir = tmpDir("mc-export-");
  run = path.join(dir, "run");
  const r = await runCli(["run", "--run", run, "--max-rounds", "1", "--bucket", "20000"]);
  if (r.code !== 0) throw new Error(r.stderr);
  const db = new Database(path.join(run, "work.sqlite"), { readonly: true });
  expected = new Map(
    (db.prepare("SELECT d.record_id, d.text FROM clean c JOIN documents d ON d.id = c.doc_id WHERE c.round = 1 AND c.status = 'kept'").all() as Array<{ record_id: string; text: string }>).map((x) => [x.record_id, crypto.createHash("sha256").update(x.text).digest("hex")]),
  );
  db.close();
}, 240_000);

describe("export ids", () => {
  it("are WARC-Record-IDs; a record without one, an older store's row and an id two records share fall back to doc_key", () => {
    const rows = [
      { id: "/data/a.warc.gz@0", record_id: "<urn:uuid:1>" },
      { id: "/data/a.warc.gz@900", record_id: null },
      { id: "/data/a.warc.gz@1800", record_id: "" },
      { id: "/data/b.warc.gz@0", record_id: "<urn:uuid:dup>" },
      { id: "/data/b.warc.gz@700", record_id: "<urn:uuid:dup>" },
    ];
    exportIds(rows);
    expect(rows.map((r) => r.id)).toEqual(["<urn:uuid:1>", "/data/a.warc.gz@900", "/data/a.warc.gz@1800", "/data/b.warc.gz@0", "/data/b.warc.gz@700"]);
  });
});

describe("export → verify → readers", () => {
  it("run wrote an export that verifies; both readers read exactly the cleaned selection across ranks", async () => {
    const out = path.join(run, "export");
    expect((await runCli(["verify", out])).code).toBe(0);
    expect(expected.size).toBeGreaterThan(10);
    // ids are the pages' WARC-Record-IDs: unique, and no local path of the crawl in them
    for (const id of expected.keys()) expect(id).toMatch(/^<urn:uuid:[0-9a-f-]{36}>$/);
    const out2 = path.join(path.dirname(run), "shards");
    const e = await runCli(["export", "--run", run, "--out", out2, "--shard-docs", "7"]);
    expect(e.code).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(out2, "manifest.json"), "utf8")) as { shards: Array<{ docs: number }>; documents: number; tokenizer: string; models: unknown[]; dedup: unknown; decontamination: unknown; config: unknown; schema_version: number };
    expect(manifest.shards.length).toBe(Math.ceil(expected.size / 7));
    expect(manifest).toMatchObject({ schema_version: 1, documents: expected.size, tokenizer: expect.stringContaining("cl100k") });
    expect(manifest.models.length).toBe(1);
    expect(manifest.dedup).toBeDefined();
    expect(manifest.decontamination).toBeDefined();
    for (const world of [1, 3]) {
      expect(readAllRanks((r) => pyRead(out2, r, world), world)).toEqual(expected);
      const ts = new Map<string, string>();
      for (let r = 0; r < world; r++) for (const d of await tsRead(out2, r, world)) ts.set(d.id, d.sha256);
      expect(ts).toEqual(expected);
    }
  });

  it("the TypeScript reader resumes from a saved position", async () => {
    const out = path.join(path.dirname(run), "shards");
    const reader = new ShardReader(out, 1, 2);
    const first: string[] = [];
    for await (const d of reader) {
      first.push(d.id);
      if (first.length === 5) break;
    }
    const rest: string[] = [];
    for await (const d of new ShardReader(out, 1, 2, reader.position)) rest.push(d.id);
    const all = (await tsRead(out, 1, 2)).map((d) => d.id);
    expect([...first, ...rest]).toEqual(all);
  });

  it("shows shard progress on a terminal, and nothing of it elsewhere", async () => {
    const out = path.join(path.dirname(run), "progress");
    const err = Object.assign(new PassThrough(), { isTTY: true });
    const chunks: Buffer[] = [];
    err.on("data", (c: Buffer) => chunks.push(c));
    const sink = new PassThrough();
    sink.resume();
    expect(await main(["export", "--run", run, "--out", out, "--shard-docs", "5"], { stdout: sink, stderr: err, cwd: ROOT, env: {} })).toBe(0);
    const stderr = Buffer.concat(chunks).toString("utf8");
    const lines = [...stderr.matchAll(/\r\x1b\[2K(export: shard [^\r\n]*)/g)].map((m) => m[1]!);
    expect(lines.length).toBeGreaterThan(0); // the first report is always shown
    for (const l of lines) expect(l).toMatch(/^export: shard \d+\/\d+ {2}ETA \S+$/);
    expect(stderr).toMatch(/\r\x1b\[2Kexport: round \d+: \d+ documents/); // cleared before the summary
    const plain = await runCli(["export", "--run", run, "--out", path.join(path.dirname(run), "plain"), "--shard-docs", "5"]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toMatch(/\x1b|shard \d+\//);
  });

  it("refuses a non-empty --out without --force", async () => {
    const other = path.join(path.dirname(run), "taken");
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, "keep.txt"), "mine");
    const r = await runCli(["export", "--run", run, "--out", other]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists and is not empty; give --force/);
    expect((await runCli(["export", "--run", run, "--out", other, "--force"])).code).toBe(0);
    expect(fs.existsSync(path.join(other, "keep.txt"))).toBe(false);
  });
});

describe("verify catches damage; a rerun of export repairs it", () => {
  it("one changed byte, a deleted shard", async () => {
    const out = path.join(path.dirname(run), "damaged");
    expect((await runCli(["export", "--run", run, "--out", out, "--shard-docs", "9"])).code).toBe(0);
    const shard = path.join(out, "shard-00001.sqlite");
    const bytes = fs.readFileSync(shard);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    fs.writeFileSync(shard, bytes);
    let v = await runCli(["verify", out]);
    expect(v.code).toBe(5);
    expect(v.stderr).toMatch(/shard-00001\.sqlite: sha256 .* manifest says/);
    fs.rmSync(path.join(out, "shard-00002.sqlite"));
    v = await runCli(["verify", out]);
    expect(v.stderr).toMatch(/shard-00002\.sqlite: missing/);
    expect((await runCli(["export", "--run", run, "--out", out, "--shard-docs", "9"])).code).toBe(0);
    expect((await runCli(["verify", out])).code).toBe(0);
    expect(readAllRanks((r) => pyRead(out, r, 2), 2)).toEqual(expected);
  });

  it("an export killed midway fails verify; rerunning it completes it", async () => {
    const out = path.join(path.dirname(run), "killed");
    let interrupted = 0;
    // killed once the export has written k shards (watched every 2 ms; a fixed delay missed the
    // export, which takes ~0.1 s after a start-up that varies with load), early to late
    for (const k of [1, 5, 20, 40]) {
      fs.rmSync(out, { recursive: true, force: true });
      await new Promise<void>((resolve) => {
        const p = spawn(process.execPath, [CLI, "export", "--run", run, "--out", out, "--shard-docs", "1"], { stdio: "ignore" });
        const watch = setInterval(() => {
          let n = 0;
          try {
            n = fs.readdirSync(out).filter((f) => f.endsWith(".sqlite")).length;
          } catch {
            return; // not created yet
          }
          if (n >= k) p.kill("SIGKILL");
        }, 2);
        p.on("exit", () => (clearInterval(watch), resolve()));
      });
      if (fs.existsSync(out) && !fs.existsSync(path.join(out, "manifest.json"))) {
        interrupted++;
        const v = await runCli(["verify", out]);
        expect(v.code).toBe(5);
        expect(v.stderr).toMatch(/manifest\.json: missing or unreadable/);
        expect(fs.readdirSync(out).filter((f) => f.endsWith(".sqlite") && !/^shard-\d{5}\.sqlite$/.test(f))).toEqual([]);
        expect((await runCli(["export", "--run", run, "--out", out, "--shard-docs", "1"])).code).toBe(0);
        expect((await runCli(["verify", out])).code).toBe(0);
        expect(readAllRanks((r) => pyRead(out, r, 1), 1)).toEqual(expected);
      }
    }
    expect(expected.size).toBeGreaterThan(40);
    expect(interrupted).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
