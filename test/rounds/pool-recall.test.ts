import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LinearModel } from "../../src/classify/linear.js";
import { isHeldOut } from "../../src/classify/split.js";
import { nullLogger } from "../../src/core/log.js";
import { firstPass, isCandidate } from "../../src/extract/firstpass.js";
import { readJsonlDocs } from "../../src/extract/inputs.js";
import { runGate } from "../../src/rounds/firstpass.js";
import { WorkStore } from "../../src/store/store.js";
import { WarcStats, readPages } from "../../src/warc/pages.js";
import { localSource } from "../../src/warc/source.js";
import { ROOT, tmpDir } from "../helpers.js";

/**
 * The candidate pool's recall on a crawl laid out as Common Crawl's, 2 % of it mathematics:
 * make-cc-warc.py packs the bundled crawl's other pages with held-out PlanetMath seeds (never
 * trained on) as the math pages.
 */
describe("the candidate pool on a 2 %-math Common-Crawl-style crawl", () => {
  it("keeps ≥ 99.5 % of the held-out seeds and every math page of the crawl, in a pool of a small share of it", async () => {
    const dir = tmpDir("mc-pool-recall-");
    const math: string[] = [];
    for await (const d of readJsonlDocs(path.join(ROOT, "seeds", "seeds-planetmath.jsonl.gz"), "seeds-planetmath.jsonl.gz", () => {})) {
      if (typeof d.body === "string" && isHeldOut(d.id, 0.1)) math.push(JSON.stringify({ id: d.id, url: d.url, html: d.body, label: "math" }));
    }
    fs.writeFileSync(path.join(dir, "math.jsonl"), math.join("\n") + "\n");
    const web: string[] = [];
    for await (const p of readPages(localSource(path.join(ROOT, "data", "crawl-sample.warc.gz")), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) {
      if (p.host !== "planetmath.org") web.push(JSON.stringify({ id: p.url, url: p.url, html: p.body.toString("utf8"), label: "web" }));
    }
    fs.writeFileSync(path.join(dir, "web.jsonl"), web.join("\n") + "\n");
    const crawl = path.join(dir, "crawl.warc.gz");
    execFileSync("python3", [path.join(ROOT, "scripts", "make-cc-warc.py"), crawl, path.join(dir, "math.jsonl"), path.join(dir, "web.jsonl"), "--pages", "3000", "--math-share", "0.02", "--vary-urls", "--seed", "7"]);

    const store = new WorkStore(path.join(dir, "run", "work.sqlite"));
    const { gate, info } = await runGate(store, {
      runDir: path.join(dir, "run"),
      sources: [localSource(crawl)],
      seeds: path.join(ROOT, "seeds"),
      heldOut: 0.1,
      recall: 0.995,
      sample: 4000,
      seed: 1,
      threads: 2,
      deterministic: false,
      maxRecordBytes: 8 << 20,
      logger: nullLogger,
      warn: () => {},
    });
    store.close();
    expect(info.held_out).toBeGreaterThan(100);
    expect(info.held_recall).toBeGreaterThanOrEqual(0.995);
    const model = LinearModel.fromShared(gate.model);
    const n = { pages: 0, math: 0, mathKept: 0, web: 0, webKept: 0 };
    for await (const p of readPages(localSource(crawl), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) {
      const f = firstPass(p.body, p.contentType, undefined, gate.maxText);
      const kept = isCandidate(model.scoreText(f.text), f.signals, gate.bar);
      n.pages++;
      if (p.host === "planetmath.org") [n.math, n.mathKept] = [n.math + 1, n.mathKept + (kept ? 1 : 0)];
      else [n.web, n.webKept] = [n.web + 1, n.webKept + (kept ? 1 : 0)];
    }
    expect(n.pages).toBeGreaterThan(2900);
    expect(n.math).toBeGreaterThanOrEqual(40);
    expect(n.mathKept).toBe(n.math);
    // the rest of the crawl mostly stays out
    expect(n.webKept / n.web).toBeLessThan(0.15);
    console.log(`pool recall: ${n.mathKept}/${n.math} math pages, ${n.webKept}/${n.web} other pages in the pool; held-out seeds ${(100 * info.held_recall).toFixed(1)}% of ${info.held_out} at bar ${info.bar.toFixed(4)}`);
  }, 180_000);
});
