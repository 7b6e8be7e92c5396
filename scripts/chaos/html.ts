import { DEFAULT_FILTERS } from "../../src/extract/filters.js";
import { Extractor } from "../../src/extract/pool.js";
import { EXTRACT_DROPS } from "../../src/extract/reasons.js";
import { DEFAULT_LIMITS } from "../../src/extract/tree.js";
import { nullLogger } from "../../src/core/log.js";
import { WarcStats, readPages } from "../../src/warc/pages.js";
import { localSource } from "../../src/warc/source.js";
import { type Row, SAMPLE, note, rng, row, within } from "./common.js";

/**
 * Hostile HTML: real pages of the bundled crawl with one mutation each (deep nesting, huge
 * attributes and text nodes, broken UTF-8, a wrong declared charset, MathML bombs, 1 MB of TeX,
 * entity bombs, NUL bytes). Each goes through the worker pool as a crawl sends it; every page
 * must come back, as text or as a counted drop, within its bound.
 */
export async function htmlMutants(count: number, seed: number, pageTimeoutMs: number): Promise<Row & { slowestMs: number; drops: Record<string, number> }> {
  const r = { ...row("HTML mutants"), slowestMs: 0, drops: {} as Record<string, number> };
  const R = rng(seed);
  const bases: Buffer[] = [];
  for await (const p of readPages(localSource(SAMPLE), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) {
    if (bases.length < 60) bases.push(p.body);
  }
  const rep = (s: string, n: number) => s.repeat(n);
  const mutations: Record<string, () => string | Buffer> = {
    "deep nesting": () => rep("<div>", 20_000 + R.int(200_000)),
    "deep inline nesting": () => rep("<b><i>", 50_000 + R.int(100_000)),
    "huge attribute": () => `<p class="${rep("x", 1_000_000 + R.int(4_000_000))}">x</p>`,
    "huge text node": () => `<p>${rep("word ", 200_000 + R.int(800_000))}</p>`,
    "broken UTF-8": () => Buffer.from(Array.from({ length: 5000 + R.int(50_000) }, () => 0x80 + R.int(0x80))),
    "MathML nested through annotation-xml": () => {
      const d = 200 + R.int(2000);
      return rep('<math><semantics><mi>x</mi><annotation-xml encoding="text/html">', d) + "<mi>y</mi>" + rep("</annotation-xml></semantics></math>", d);
    },
    "MathML nested mrow": () => `<math>${rep("<mrow><mfrac><mi>a</mi>", 500 + R.int(5000))}</math>`,
    "wide MathML": () => `<math>${rep("<mi>x</mi><mo>+</mo>", 5000 + R.int(50_000))}</math>`,
    "1 MB of TeX": () => `<script type="math/tex">${rep("\\frac{a}{b}+", 90_000)}</script><p>$$${rep("x^{2}+", 100_000)}$$</p>`,
    "entity bomb": () => `<p>${rep("&amp;&#x1F600;&lt;&nbsp;&unknown;&#99999999;", 50_000 + R.int(100_000))}</p>`,
    "NUL bytes": () => Buffer.alloc(1000 + R.int(100_000), 0),
    "unclosed comment and CDATA": () => `<!-- ${rep("-", 100_000)} <![CDATA[ ${rep("]]", 50_000)}`,
    "many tags": () => rep("<span></span>", 100_000 + R.int(300_000)),
    "huge title": () => `<title>${rep("t", 2_000_000)}</title>`,
  };
  const names = Object.keys(mutations);
  const charsets = ["", "utf-8", "utf-16le", "utf-16be", "shift_jis", "gb18030", "iso-2022-jp", "x-user-defined", "nonsense-charset"];
  const ex = new Extractor({ limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS, features: true, pageTimeoutMs }, 2);
  const known = new Set<string>(EXTRACT_DROPS);
  try {
    const inFlight = new Set<Promise<void>>();
    for (let n = 0; n < count; n++) {
      const kind = names[n % names.length]!;
      const base = bases[R.int(bases.length)]!;
      const cut = R.int(base.length);
      const add = mutations[kind]!();
      const body = Buffer.concat([base.subarray(0, cut), typeof add === "string" ? Buffer.from(add, "utf8") : add, base.subarray(cut)]);
      const charset = R.pick(charsets);
      r.tried++;
      const job = (async () => {
        const t0 = Date.now();
        let out;
        try {
          out = await within(pageTimeoutMs + 60_000, () => ex.extract({ body, contentType: `text/html${charset ? `; charset=${charset}` : ""}` }));
        } catch (err) {
          r.crashed++;
          note(r, `${kind}: threw ${(err as Error).message}`, true);
          return;
        }
        const ms = Date.now() - t0;
        r.slowestMs = Math.max(r.slowestMs, ms);
        if (out === "hung") {
          r.hung++;
          note(r, `${kind} (${(body.length / 1e6).toFixed(1)} MB): no outcome within ${pageTimeoutMs / 1000 + 60} s`, true);
          return;
        }
        if ("drop" in out) {
          r.drops[out.drop] = (r.drops[out.drop] ?? 0) + 1;
          if (!known.has(out.drop)) {
            r.lost++;
            note(r, `${kind}: unknown drop ${out.drop}`, true);
          }
        } else if ("ok" in out && typeof out.ok.text !== "string") {
          r.lost++;
          note(r, `${kind}: an outcome without text`, true);
        }
      })();
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
      // as a crawl does: a window of pages in flight
      if (inFlight.size >= ex.window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await ex.close();
  }
  return r;
}
