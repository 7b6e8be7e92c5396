import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { LangId, lidLine, parsePrediction } from "../../src/extract/lang.js";
import { fixture, runCli, tmpDir } from "../helpers.js";

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
});
