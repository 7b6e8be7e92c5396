import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { histogramSvg, prSvg } from "../../src/report/charts.js";
import { reportData } from "../../src/report/data.js";
import { esc, link } from "../../src/report/html.js";
import { katexCss, renderText, splitMath } from "../../src/report/math.js";
import { renderReport } from "../../src/report/report.js";
import { recordDecisions } from "../../src/rounds/annotate.js";
import { reviewHosts } from "../../src/review/data.js";
import { startReview } from "../../src/review/server.js";
import { RunStores } from "../../src/store/stores.js";
import { runCli, tmpDir } from "../helpers.js";

describe("report HTML: escaping, links, mathematics", () => {
  it("escapes text and attribute values; links only http(s) URLs", () => {
    expect(esc(`<img src=x onerror="a('b')">&\``)).toBe("&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;&#96;");
    expect(link("https://example.org/a?b=<c>&d")).toBe('<a href="https://example.org/a?b=&lt;c&gt;&amp;d" rel="noopener noreferrer nofollow" target="_blank">https://example.org/a?b=&lt;c&gt;&amp;d</a>');
    for (const bad of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x", "https://exa mple.org/", "https://example.org/\njavascript:x", "//evil.example/x", "not a url"]) {
      const html = link(bad);
      expect(html, bad).not.toMatch(/<a /);
      expect(html, bad).toBe(`<span class="url">${esc(bad)}</span>`);
    }
  });

  it("splits formulas from prose: $…$, $$…$$, \\(…\\), \\[…\\]; prices stay prose", () => {
    expect(splitMath("It costs $5 and $10 a day.")).toEqual([{ text: "It costs $5 and $10 a day." }]);
    expect(splitMath("Let $x^2$ and $$\\int f$$ or \\(a\\) and \\[b\\].")).toEqual([
      { text: "Let " },
      { text: "x^2", math: "inline" },
      { text: " and " },
      { text: "\\int f", math: "display" },
      { text: " or " },
      { text: "a", math: "inline" },
      { text: " and " },
      { text: "b", math: "display" },
      { text: "." },
    ]);
    expect(splitMath("$a \\$ b$")).toEqual([{ text: "a \\$ b", math: "inline" }]);
    expect(splitMath("no $math\nacross lines$")).toEqual([{ text: "no $math\nacross lines$" }]);
  });

  it("renders formulas with KaTeX, never a link or a script from TeX; bad or huge TeX is shown as source; cuts between segments", () => {
    const html = renderText("see $\\href{javascript:alert(1)}{x}$ and $\\url{javascript:alert(2)}$ <b>bold</b>\nnext");
    expect(html).toContain('class="katex"');
    expect(html).not.toMatch(/<a\b|href=|<script/i);
    expect(html).toContain("&lt;b&gt;bold&lt;/b&gt;<br>next");
    expect(renderText("$\\frac{1}{$")).toMatch(/katex|<code class="tex">/);
    const huge = `$${"x+".repeat(401)}x$`;
    expect(renderText(huge)).toMatch(/^<code class="tex">\$x\+x\+/);
    // a cut never splits a formula: the formula is whole or absent
    const cut = renderText(`${"a".repeat(50)} $\\sqrt{2}$ ${"b".repeat(50)}`, 75); // the formula counts 20
    expect(cut).toContain("katex");
    expect(cut).toMatch(/<\/span> bbb…$/);
    expect(renderText(`${"a".repeat(50)} $\\sqrt{2}$ b`, 62)).toBe(`${"a".repeat(50)} <span class="more">…</span>`);
    expect(renderText(`${"a".repeat(50)} $\\sqrt{2}$ b`, 50)).toBe(`${"a".repeat(50)}…`);
    expect(renderText("x".repeat(100), 10)).toBe("xxxxxxxxxx…");
  });

  it("hostile TeX: macro bombs, deep nesting, \\html* and \\includegraphics render inert, fast, and a card's HTML stays bounded", () => {
    const cases = {
      bomb: "$\\def\\a{\\a\\a}\\a$",
      bomb2: "$\\def\\x{xxxxxxxx}\\def\\y{\\x\\x\\x\\x\\x\\x\\x\\x}\\def\\z{\\y\\y\\y\\y\\y\\y\\y\\y}\\z\\z\\z\\z\\z\\z\\z\\z$",
      nest: `$${"{".repeat(740)}x${"}".repeat(740)}$`,
      rule: "$\\rule{100000em}{100000em}$",
      html: "$\\htmlClass{x}{y}\\htmlData{onload=alert(1)}{z}\\htmlStyle{background:url(javascript:alert(1))}{w}\\htmlId{a}{b}$",
      img: "$\\includegraphics{javascript:alert(1)}$",
      dense: "$x$ ".repeat(20000),
      long: `$${"a+".repeat(395)}a$ and more`,
      control: "text \ud800 lone $x\u2028y$ \u0000 nul",
    };
    for (const [name, tex] of Object.entries(cases)) {
      const t = performance.now();
      const html = renderText(tex, 700);
      expect(performance.now() - t, name).toBeLessThan(2000);
      const outside = html.replace(/<annotation[^>]*>[\s\S]*?<\/annotation>/g, "");
      expect(outside, name).not.toMatch(/<script|javascript:|\son\w+=|<img|<a\b|<iframe|style="[^"]*url\(/i);
      expect(html.length, name).toBeLessThan(140_000);
    }
    // a page of tiny formulas is cut after 33 of them (20 + 1 each against 700), not 350
    expect((renderText(cases.dense, 700).match(/class="katex"/g) ?? []).length).toBe(33);
  });

  it("inlines KaTeX's fonts, so the report needs no other file", () => {
    const css = katexCss();
    expect(css).not.toMatch(/url\(fonts\//);
    expect((css.match(/data:font\/woff2;base64,/g) ?? []).length).toBe(20);
  });

  it("charts: a cut-off line and point only when there is a cut-off; an empty held-out set says so", () => {
    const h = histogramSvg([{ name: "<crawl>", counts: [5, 0, 1], color: "#000" }], 0.5, "t");
    expect(h).toContain('class="cutoff"');
    expect(h).toContain("&lt;crawl&gt;");
    expect(h).not.toContain("<crawl>");
    expect(histogramSvg([{ name: "c", counts: [1], color: "#000" }], null, "t")).not.toContain("cutoff");
    expect(prSvg([], [0.1], 0.5, "t")).toContain("no held-out pages");
    const pr = prSvg([0.9, 0.8, 0.3], [0.2, 0.85], 0.5, "t");
    expect(pr).toMatch(/<circle class="cutoff"[^>]*><title>cut-off 0\.500000: recall 0\.6667, precision 0\.6667<\/title>/);
  });
});

describe("report: runs without a finished round, and bad arguments", () => {
  it("a run with no finished round still gets a report that says so", () => {
    const dir = tmpDir("mc-report-");
    const stores = RunStores.open(dir);
    try {
      const d = reportData(stores, dir, path.join(dir, "export"));
      expect(d.rounds).toEqual([]);
      expect(d.samples).toBeNull();
      expect(d.funnel.map((s) => s.pages)).toEqual([0, 0]);
      const html = renderReport(d);
      expect(html).toContain("No round has finished yet.");
      expect(html).toContain("No export found.");
    } finally {
      stores.close();
    }
  });

  it("report and review say what is wrong with their arguments", async () => {
    const missing = await runCli(["report", "--run", "/nonexistent/run"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/nonexistent\/run/);
    const neg = await runCli(["report", "--run", "/nonexistent/run", "--samples", "-1"]);
    expect(neg.code).toBe(2);
    expect(neg.stderr).toMatch(/--samples expects a whole number/);
    const dir = tmpDir("mc-report-");
    fs.mkdirSync(path.join(dir, "run"));
    RunStores.open(path.join(dir, "run")).close();
    const noRound = await runCli(["review", "--run", path.join(dir, "run"), "--port", "0"]);
    expect(noRound.code).toBe(3);
    expect(noRound.stderr).toMatch(/no finished round to review/);
    const port = await runCli(["review", "--run", path.join(dir, "run"), "--port", "70000"]);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/--port expects 0 to 65535/);
    const help = await runCli(["review", "--help"]);
    expect(help.stdout).toMatch(/--annotator NAME/);
    expect(help.stdout).toMatch(/--host ADDR/);
  });
});

describe("review order", () => {
  it("hosts rank by their most consequential undecided prefix; prefixes within a host likewise; pages of hosts", () => {
    const dir = tmpDir("mc-review-order-");
    const stores = RunStores.open(dir);
    try {
      const db = stores.coord.db;
      const host = db.prepare("INSERT INTO domain_stats (round, host, pages, selected, share, math_related) VALUES (1, ?, ?, ?, ?, ?)");
      const prefix = db.prepare("INSERT INTO prefix_stats (round, prefix, host, depth, pages, selected, share) VALUES (1, ?, ?, ?, ?, ?, ?)");
      // a.org: its best undecided prefix would promote 50 pages; b.org: 80, but decided; c.org: 10; d.org: not math-related
      host.run("a.org", 100, 40, 0.4, 1);
      prefix.run("a.org/", "a.org", 0, 100, 40, 0.4);
      prefix.run("a.org/x/", "a.org", 1, 60, 10, 0.17);
      prefix.run("a.org/y/", "a.org", 1, 40, 30, 0.75);
      host.run("b.org", 100, 20, 0.2, 1);
      prefix.run("b.org/", "b.org", 0, 100, 20, 0.2);
      host.run("c.org", 20, 10, 0.5, 1);
      prefix.run("c.org/", "c.org", 0, 20, 10, 0.5);
      host.run("d.org", 50, 1, 0.02, 0);
      recordDecisions(stores.coord, [{ prefix: "b.org/", decision: "reject" }, { prefix: "a.org/", decision: "accept" }], "t", 1);
      const all = reviewHosts(stores, 1, 0, 10);
      expect(all.total).toBe(3);
      expect(all.undecided).toBe(3);
      expect(all.hosts.map((h) => h.host)).toEqual(["a.org", "c.org", "b.org"]);
      expect(all.hosts[0]!.prefixes.map((p) => [p.prefix, p.decision])).toEqual([
        ["a.org/x/", null],
        ["a.org/y/", null],
        ["a.org/", "accept"],
      ]);
      expect(all.hosts[2]!.prefixes[0]).toMatchObject({ prefix: "b.org/", decision: "reject", who: "t" });
      expect(reviewHosts(stores, 1, 1, 1).hosts.map((h) => h.host)).toEqual(["c.org"]);
      expect(reviewHosts(stores, 1, 3, 10).hosts).toEqual([]);
    } finally {
      stores.close();
    }
  });
});

describe("review server addresses", () => {
  it("answers only to its own names: 127.0.0.1 and localhost by default; every address of the machine when bound to 0.0.0.0", async () => {
    const dir = tmpDir("mc-review-host-");
    const post = async (port: number, host: string) => (await request(`http://127.0.0.1:${port}/api/decision`, { method: "POST", headers: { host, "content-type": "application/json" }, body: "{}" })).statusCode;
    const local = await startReview({ runDir: dir, shown: dir, host: "127.0.0.1", port: 0, annotator: "t", hostsPerPage: 5, samples: { unselected: 1, selected: 1 } });
    try {
      const port = Number(new URL(local.url).port);
      expect(local.url).toBe(`http://127.0.0.1:${port}/`);
      expect(await post(port, `127.0.0.1:${port}`)).toBe(403); // past the Host check, refused for want of a token
      expect(await post(port, `localhost:${port}`)).toBe(403);
      expect(await post(port, `attacker.example:${port}`)).toBe(421);
      expect(await post(port, "127.0.0.1:1")).toBe(421);
    } finally {
      await local.close();
    }
    const all = await startReview({ runDir: dir, shown: dir, host: "0.0.0.0", port: 0, annotator: "t", hostsPerPage: 5, samples: { unselected: 1, selected: 1 } });
    try {
      const port = Number(new URL(all.url).port);
      expect(await post(port, `127.0.0.1:${port}`)).toBe(403);
      expect(await post(port, `${os.hostname()}:${port}`)).toBe(403);
      const ext = Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).find((a) => a.family === "IPv4" && !a.internal);
      if (ext) expect(await post(port, `${ext.address}:${port}`)).toBe(403);
      expect(await post(port, `attacker.example:${port}`)).toBe(421);
    } finally {
      await all.close();
    }
  });
});
