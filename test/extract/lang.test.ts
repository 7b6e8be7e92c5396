import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { LangId, lidLine, parsePrediction } from "../../src/extract/lang.js";
import { type JsonlIssue, type RawDoc, isDocFile, readDocFile } from "../../src/extract/inputs.js";
import { ROOT, fixture, runCli, tmpDir } from "../helpers.js";

describe("language id (fastText lid.176 via the shipped binary)", () => {
  it("identifies languages, in order, and says und for text without letters", async () => {
    const lang = new LangId();
    try {
      const r = await lang.identify([
        "The derivative of a function measures how its output changes as its input changes.",
        "",
        "函数的导数描述了函数值随自变量变化的快慢。",
        "La dérivée d'une fonction mesure la variation de sa valeur.",
        "12345 67890 $$x^2$$",
      ]);
      expect(r.map((x) => x.lang)).toEqual(["en", "und", "zh", "fr", "und"]);
      expect(r[0]!.confidence).toBeGreaterThan(0.5);
      expect(r.every((x) => x.confidence >= 0 && x.confidence <= 1)).toBe(true);
    } finally {
      await lang.close();
    }
  });

  it("a process that dies fails its pending requests clearly and is restarted", async () => {
    const lang = new LangId();
    try {
      await lang.identify(["warm up the process with an English sentence"]);
      const pending = lang.identify(Array.from({ length: 2000 }, (_, i) => `sentence number ${i} in English words`));
      lang.kill();
      await expect(pending).rejects.toThrow(/fastText predict on lid\.176\.ftz stopped \(signal SIGKILL\)/);
      const again = await lang.identify(["Ceci est une phrase en français."]);
      expect(again[0]!.lang).toBe("fr");
    } finally {
      await lang.close();
    }
  });

  it("clamps probabilities fastText prints above 1 and strips formulas before identifying", () => {
    expect(parsePrediction("__label__zh 1.00003")).toEqual({ lang: "zh", confidence: 1 });
    expect(parsePrediction("garbage")).toEqual({ lang: "und", confidence: 0 });
    expect(lidLine("Let $x^2$ be\n$$\\int f$$ given")).toBe("Let be given");
  });

  it("lidLine reads only as far as it needs and gives what formula removal, collapsing and cutting the whole text give", () => {
    const whole = (t: string, max: number) => {
      const line = t.replace(/\$\$[\s\S]*?\$\$|\$[^$\n]*\$/g, " ").replace(/\s+/g, " ").trim().slice(0, max);
      return /\p{L}/u.test(line) ? line : "";
    };
    // texts made of the pieces that matter: words, whitespace runs, $ and $$ (closed or not), newlines inside formulas
    const pieces = ["word", "Ωμέγα", "数学", "1234", " ", "   ", "\n", "\t \n ", "$", "$$", "$x^2$", "$$\\int f$$", "$a\nb$", ".", "\u00a0"];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    let checked = 0;
    for (let k = 0; k < 3000; k++) {
      const parts: string[] = [];
      const n = rand(3) === 0 ? rand(40) : rand(600);
      // some texts are mostly whitespace or formulas, so the settled point moves around
      const bias = rand(4);
      for (let i = 0; i < n; i++) parts.push(bias === 0 && rand(2) ? "     \n  " : bias === 1 && rand(2) ? "$y$" : pieces[rand(pieces.length)]!);
      const t = parts.join("");
      for (const max of [1, 10, 50, 1000]) {
        expect(lidLine(t, max), JSON.stringify({ t, max })).toBe(whole(t, max));
        checked++;
      }
    }
    expect(checked).toBe(12000);
    // a long text: the answer is its first 1,000 characters, formulas out
    const long = `${"Some words and $x$ formulas, ".repeat(2000)}`;
    expect(lidLine(long)).toBe(whole(long, 1000));
    expect(lidLine(long).length).toBe(1000);
  });
});

describe("mathcorpus extract", () => {
  it("extracts WARC pages to JSONL with language and counts drops", async () => {
    const r = await runCli(["extract", fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz"), "--jsonl", "--threads", "2"]);
    expect(r.code).toBe(0);
    const docs = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; url: string; lang: string; lang_confidence: number; text: string; charset: string });
    expect(docs.length).toBeGreaterThan(10);
    const ru = docs.find((d) => d.url === "http://01spb.ru/company/")!;
    expect(ru).toMatchObject({ lang: "ru", charset: "windows-1251" });
    expect(ru.id).toMatch(/CC-MAIN-2020-34-excerpt\.resiliparse\.warc\.gz@12685$/);
    expect(docs.filter((d) => d.lang === "zh").length).toBeGreaterThan(5);
    expect(r.stderr).toMatch(/extract: \d+ of 16 pages kept/);
  });

  it("reads HTML files and JSONL (html extracted, text kept), warns on bad lines, filters languages", async () => {
    const dir = tmpDir();
    const jsonl = path.join(dir, "docs.jsonl.gz");
    const lines = [
      JSON.stringify({ id: "a", url: "https://x.example/a", html: fs.readFileSync(fixture("extract", "katex.html"), "utf8") }),
      JSON.stringify({ id: "b", text: "Ceci est un texte en français, assez long pour passer le filtre de longueur minimale des documents extraits par l'outil." }),
      "{not json",
      JSON.stringify({ id: "c" }),
    ];
    fs.writeFileSync(jsonl, zlib.gzipSync(lines.join("\n") + "\n"));
    const statsFile = path.join(dir, "stats.json");
    const r = await runCli(["extract", jsonl, fixture("extract", "mathjax2.html"), "--jsonl", "--langs", "en", "--threads", "0", "--stats", statsFile]);
    expect(r.code).toBe(0);
    const docs = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; text: string; lang: string });
    expect(docs.map((d) => d.id)).toEqual(["a", expect.stringContaining("mathjax2.html")]);
    expect(docs[0]!.text).toContain("$$e^{i\\pi} + 1 = 0$$");
    expect(r.stderr).toMatch(/docs\.jsonl\.gz:3: not JSON/);
    expect(r.stderr).toMatch(/docs\.jsonl\.gz:4: no `html` or `text` field/);
    const stats = JSON.parse(fs.readFileSync(statsFile, "utf8")) as { seen: number; kept: number; dropped: Record<string, number> };
    expect(stats).toMatchObject({ seen: 3, kept: 2, dropped: { lang_excluded: 1 } });
  });

  it("reads zstd JSON lines (two frames), Dolma's .json.gz and .ndjson as their .jsonl.gz twin; a cut-off, damaged or JSON-array file is a clear error", async () => {
    const seen: JsonlIssue[] = [];
    const read = async (file: string, display: string) => {
      const out: RawDoc[] = [];
      for await (const d of readDocFile(file, display, (i) => seen.push(i))) out.push(d);
      return out;
    };
    const twin = (await read(fixture("seeds", "owm-like.jsonl.gz"), "owm")).map((d) => [d.id, d.url, d.text]);
    expect(twin).toHaveLength(20);
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "owm.ndjson"), zlib.gunzipSync(fs.readFileSync(fixture("seeds", "owm-like.jsonl.gz"))));
    for (const f of [fixture("seeds", "owm-like.jsonl.zst"), fixture("seeds", "owm-like.json.gz"), path.join(dir, "owm.ndjson")]) {
      expect(isDocFile(f), f).toBe(true);
      expect((await read(f, "owm")).map((d) => [d.id, d.url, d.text]), f).toEqual(twin);
    }
    expect(seen).toEqual([]);
    // plain .json (a config, dataset_info.json) is not taken for documents
    expect(isDocFile("dataset_info.json")).toBe(false);
    const zst = fs.readFileSync(fixture("seeds", "owm-like.jsonl.zst"));
    fs.writeFileSync(path.join(dir, "cut.jsonl.zst"), zst.subarray(0, zst.length - 5000));
    await expect(read(path.join(dir, "cut.jsonl.zst"), "cut.jsonl.zst")).rejects.toThrow(/^cut\.jsonl\.zst: cannot read line \d+: /);
    fs.writeFileSync(path.join(dir, "bad.jsonl.zst"), "not zstd at all, just text\n");
    await expect(read(path.join(dir, "bad.jsonl.zst"), "bad.jsonl.zst")).rejects.toThrow(/^bad\.jsonl\.zst: cannot read line 1: /);
    fs.writeFileSync(path.join(dir, "arr.json.gz"), zlib.gzipSync('\uFEFF[{"id": 1, "text": "x"}]\n'));
    await expect(read(path.join(dir, "arr.json.gz"), "arr.json.gz")).rejects.toThrow("arr.json.gz: holds a JSON array; documents are read as JSON lines, one object per line");
    // through the CLI: a seed-like zstd file is extracted like any other
    const r = await runCli(["extract", fixture("seeds", "owm-like.jsonl.zst"), "--jsonl", "--threads", "0", "--stats", path.join(dir, "stats.json")]);
    expect(r.code, r.stderr).toBe(0);
    const stats = JSON.parse(fs.readFileSync(path.join(dir, "stats.json"), "utf8")) as { seen: number; kept: number };
    expect(stats.seen).toBe(20);
    expect(r.stdout.trim().split("\n")).toHaveLength(stats.kept);
  });

  it("walks a folder given as a source: HTML, JSON-lines, Parquet and WARC files in it and its subfolders, nothing else", async () => {
    const dir = path.join(tmpDir(), "mixed");
    fs.mkdirSync(path.join(dir, "nested", "deeper"), { recursive: true });
    fs.mkdirSync(path.join(dir, ".hidden"));
    fs.copyFileSync(fixture("extract", "mathjax2.html"), path.join(dir, "a.html"));
    fs.copyFileSync(fixture("seeds", "planetmath-html.parquet"), path.join(dir, "nested", "pm.parquet"));
    fs.copyFileSync(fixture("seeds", "owm-like.jsonl.zst"), path.join(dir, "nested", "deeper", "owm.jsonl.zst"));
    fs.copyFileSync(path.join(ROOT, "data", "crawl-sample.warc.gz"), path.join(dir, "nested", "c.warc.gz"));
    fs.copyFileSync(fixture("extract", "mathjax2.html"), path.join(dir, ".hidden", "skip.html"));
    fs.writeFileSync(path.join(dir, "notes.txt"), "not a source\n");
    const statsFile = path.join(dir, "..", "stats.json");
    const r = await runCli(["extract", dir, "--jsonl", "--stats", statsFile], path.dirname(dir));
    expect(r.code, r.stderr).toBe(0);
    const ids = r.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { id: string }).id);
    const stats = JSON.parse(fs.readFileSync(statsFile, "utf8")) as { seen: number; kept: number; warc: { pages: number } };
    // 1 HTML file + 3 Parquet rows + 20 JSON lines + the crawl's pages, in path order (WARC pages last)
    expect(stats.seen).toBe(1 + 3 + 20 + stats.warc.pages);
    expect(stats.warc.pages).toBeGreaterThan(600);
    expect(ids.length).toBe(stats.kept);
    expect(ids[0]).toBe(path.join(dir, "a.html"));
    expect(ids.some((id) => id.includes("skip.html"))).toBe(false);
    expect(ids.filter((id) => id.startsWith(path.join(dir, "nested", "c.warc.gz") + "@")).length).toBeGreaterThan(500);
    const empty = path.join(tmpDir(), "empty");
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, "README.md"), "# nothing\n");
    const e = await runCli(["extract", empty]);
    expect([e.code, e.stderr]).toEqual([3, expect.stringContaining(`directory ${empty} holds no WARC, HTML, JSON-lines or Parquet files`)]);
  });

  it("reads Parquet documents (OpenWebMath's layout, several row groups; html extracted) as their JSONL twins", async () => {
    const seen: JsonlIssue[] = [];
    const all = async (g: AsyncGenerator<RawDoc>) => {
      const out: RawDoc[] = [];
      for await (const d of g) out.push(d);
      return out;
    };
    // owm-like: url, text, date, metadata; no id, so ids are file:row; 20 rows in groups of 7
    const pq = await all(readDocFile(fixture("seeds", "owm-like.parquet"), "owm.parquet", (i) => seen.push(i)));
    const jl = await all(readDocFile(fixture("seeds", "owm-like.jsonl.gz"), "owm.jsonl", (i) => seen.push(i)));
    expect(pq).toHaveLength(20);
    expect(pq.map((d) => [d.url, d.text])).toEqual(jl.map((d) => [d.url, d.text]));
    expect(pq.map((d) => d.id)).toEqual(jl.map((d) => d.id.replace("owm.jsonl", "owm.parquet")));
    expect(pq[19]!.id).toBe("owm.parquet:20");
    expect(pq[0]!.meta).toEqual({ url: jl[0]!.url }); // only the document columns are read
    expect(seen).toEqual([]);
    // an INT64 id column (read as BigInt) gives a plain id and JSON-safe meta
    const ints = await all(readDocFile(fixture("seeds", "int-id.parquet"), "i.parquet", (i) => seen.push(i)));
    expect(ints.map((d) => [d.id, JSON.stringify(d.meta)])).toEqual([["7", '{"id":7,"source":"x"}']]);
    // through extract: PlanetMath HTML in a zstd Parquet keeps its formulas as LaTeX
    const r = await runCli(["extract", fixture("seeds", "planetmath-html.parquet"), "--jsonl", "--threads", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const docs = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; url: string; text: string });
    expect(docs).toHaveLength(3);
    expect(docs.every((d) => d.url.startsWith("https://planetmath.org/") && /\$[^$]+\$/.test(d.text))).toBe(true);
    // a Parquet file without a text or html column, and one that is not Parquet, are input errors
    const dir = tmpDir();
    fs.copyFileSync(path.join(ROOT, "test", "fixtures", "benchmarks", "gsm8k-head.parquet"), path.join(dir, "q.parquet"));
    fs.writeFileSync(path.join(dir, "bad.parquet"), "not parquet at all");
    const e1 = await runCli(["extract", path.join(dir, "q.parquet")]);
    expect([e1.code, e1.stderr]).toEqual([3, expect.stringContaining("q.parquet: no `html` or `text` column (columns: question, answer)")]);
    const e2 = await runCli(["extract", path.join(dir, "bad.parquet")]);
    expect([e2.code, e2.stderr]).toEqual([3, expect.stringContaining("bad.parquet: not a Parquet file this reader reads")]);
  });
});
