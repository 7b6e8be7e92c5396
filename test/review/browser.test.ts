/// <reference lib="dom" />
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunLock } from "../../src/store/lock.js";
import { ROOT, runCli, tmpDir } from "../helpers.js";
import { GSM8K_QUESTION, PAYLOAD_TITLE, reviewCrawl } from "./crawl.js";

/**
 * The report and the review page in a real browser: Debian's chromium driven by playwright-core
 * (pointed at the system executable; nothing is downloaded). Skipped, with a message, where no
 * chromium is installed (`.ci/run` installs it). Screenshots go to test-output/screenshots/.
 */

const CLI = path.join(ROOT, "dist", "src", "cli.js");
const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p): p is string => !!p && fs.existsSync(p));
const SHOTS = path.join(ROOT, "test-output", "screenshots");
if (!CHROMIUM) console.warn("browser tests skipped: no chromium found (install Debian's chromium, or set CHROMIUM_PATH)");

/** Opens a page that records dialogs, page errors and any request that leaves file:/loopback. */
async function open(browser: Browser, url: string): Promise<{ page: Page; dialogs: string[]; errors: string[]; offsite: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const dialogs: string[] = [];
  const errors: string[] = [];
  const offsite: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.route("**/*", (route) => {
    const u = route.request().url();
    if (u.startsWith("file:") || u.startsWith("data:") || /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(u)) return route.continue();
    offsite.push(u);
    return route.abort();
  });
  await page.goto(url);
  return { page, dialogs, errors, offsite };
}

/** What would show that crawled content became markup: script elements, event handlers, javascript: links. */
async function activeContent(page: Page): Promise<{ scripts: number; handlers: number; jsLinks: number; imgs: number }> {
  return page.evaluate(() => ({
    scripts: document.querySelectorAll("script").length,
    handlers: Array.from(document.querySelectorAll("*")).filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith("on"))).length,
    jsLinks: Array.from(document.querySelectorAll("a[href]")).filter((a) => !/^(https?:|#|\/)/i.test(a.getAttribute("href") ?? "")).length,
    imgs: document.querySelectorAll("img").length,
  }));
}

/** Nothing crawled became markup (`scripts`: the page's own), no dialog opened, no error, no request left the machine. */
async function expectInert(o: { page: Page; dialogs: string[]; errors: string[]; offsite: string[] }, scripts: number): Promise<void> {
  expect(await activeContent(o.page)).toEqual({ scripts, handlers: 0, jsLinks: 0, imgs: 0 });
  expect(o.dialogs).toEqual([]);
  expect(o.errors).toEqual([]);
  expect(o.offsite).toEqual([]);
}

describe.skipIf(!CHROMIUM)("the report and the review page in chromium", () => {
  let dir: string;
  let runDir: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = tmpDir("mc-review-");
    runDir = path.join(dir, "run");
    const crawl = reviewCrawl(dir);
    const r = await runCli(["run", "--run", runDir, "--sources", crawl, "--max-rounds", "1", "--threshold", "0.5", "--bucket", "20000", "--json"]);
    if (r.code !== 0) throw new Error(r.stderr);
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    fs.mkdirSync(SHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("run writes a self-contained report: charts, tables, rendered math, no network, crawled payloads inert", async () => {
    const file = path.join(runDir, "reports", "report.html");
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).size).toBeLessThan(5 << 20);
    const opened = await open(browser, pathToFileURL(file).href);
    const { page } = opened;
    // the funnel, per-round histogram with its cut-off, the PR curve with the cut-off's point, convergence
    expect(await page.locator("#funnel svg rect.funnel").count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator("#funnel table.funnel tbody tr").count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator("#rounds svg line.cutoff").count()).toBe(1);
    expect(await page.locator("#rounds svg circle.cutoff").count()).toBe(1);
    expect(await page.locator("#rounds svg rect.bar").count()).toBeGreaterThan(3);
    expect(await page.locator("#rounds table.rounds tbody tr").count()).toBe(1);
    const hosts = await page.locator("#hosts table.hosts").innerText();
    expect(hosts).toContain("planetmath.org/notes/");
    // the planted GSM8K question is a match, shown with the page's title as text
    const matches = await page.locator("#clean table.matches").innerText();
    expect(matches).toMatch(/gsm8k/i);
    expect(matches).toContain(PAYLOAD_TITLE);
    expect(matches).toContain(GSM8K_QUESTION.slice(0, 20));
    // mathematics rendered by KaTeX at report time, with its fonts inlined
    expect(await page.locator("#samples .katex").count()).toBeGreaterThan(10);
    expect(await page.evaluate(() => document.fonts.check("16px KaTeX_Main"))).toBe(true);
    await expectInert(opened, 0);
    await page.screenshot({ path: path.join(SHOTS, "report.png") });
    await page.close();
  });

  it("report --samples shows every page, the payload page's title, URL and text as text", async () => {
    const out = path.join(dir, "all.html");
    const r = await runCli(["report", "--run", runDir, "--out", out, "--samples", "1000"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    const opened = await open(browser, pathToFileURL(out).href);
    const { page } = opened;
    const samples = await page.locator("#samples").innerText();
    expect(samples).toContain(PAYLOAD_TITLE);
    expect(samples).toContain(`<script>alert("text")</script>`);
    expect(samples).toContain(`<a href="javascript:alert('text-link')">click</a>`);
    // the payload's URL is shown but is a link only as an https URL (percent-encoded by the reader)
    const links = await page.locator("#samples a[href]").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""));
    expect(links.length).toBeGreaterThan(600);
    expect(links.every((h) => /^https?:\/\//.test(h))).toBe(true);
    await expectInert(opened, 0);
    await page.close();
  });

  describe("review", () => {
    let child: ChildProcess;
    let url: string;
    let stderr = "";

    beforeAll(async () => {
      child = spawn(process.execPath, [CLI, "review", "--run", runDir, "--port", "0", "--annotator", "tester"], { stdio: ["ignore", "ignore", "pipe"] });
      child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
      const deadline = Date.now() + 30_000;
      while (!/http:\/\/\S+/.test(stderr)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`review did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      url = /http:\/\/\S+/.exec(stderr)![0];
    }, 60_000);

    afterAll(async () => {
      if (child && child.exitCode === null) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGINT");
        await done;
      }
    });

    async function decisions(): Promise<Map<string, { decision: string | null; who?: string | null; note?: string | null }>> {
      const r = await runCli(["domains", "--run", runDir, "--json"]);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as { hosts: Array<{ prefixes: Array<{ prefix: string; decision: string | null; who?: string | null; note?: string | null }> }> };
      return new Map(j.hosts.flatMap((h) => h.prefixes.map((p) => [p.prefix, p] as const)));
    }

    it("binds to 127.0.0.1 and refuses a decision without the token, from another Origin, or for another Host", async () => {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await request(url);
      const html = await page.body.text();
      expect(page.statusCode).toBe(200);
      expect(page.headers["content-security-policy"]).toMatch(/script-src 'nonce-/);
      const token = /name="review-token" content="([^"]+)"/.exec(html)![1]!;
      const body = JSON.stringify({ prefix: "planetmath.org/notes/", decision: "reject" });
      const post = (headers: Record<string, string>) => request(`${url}api/decision`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
      const noToken = await post({});
      expect(noToken.statusCode).toBe(403);
      expect(await noToken.body.text()).toMatch(/token/);
      const wrongToken = await post({ "x-review-token": token.replace(/.$/, (c) => (c === "a" ? "b" : "a")) });
      expect(wrongToken.statusCode).toBe(403);
      const otherOrigin = await post({ "x-review-token": token, origin: "http://evil.example" });
      expect(otherOrigin.statusCode).toBe(403);
      expect(await otherOrigin.body.text()).toMatch(/another origin/);
      const crossSite = await post({ "x-review-token": token, "sec-fetch-site": "cross-site" });
      expect(crossSite.statusCode).toBe(403);
      await crossSite.body.dump();
      const rebound = await request(`${url}api/decision`, { method: "POST", headers: { host: "attacker.example", "content-type": "application/json", "x-review-token": token }, body });
      expect(rebound.statusCode).toBe(421);
      await rebound.body.dump();
      const sameOrigin = await post({ "x-review-token": token, origin: url.replace(/\/$/, "") });
      expect(sameOrigin.statusCode).toBe(200); // the same request from the page's own origin is taken
      expect(await sameOrigin.body.json()).toMatchObject({ prefix: "planetmath.org/notes/", decision: "reject", who: "tester", round: 1 });
      expect((await decisions()).get("planetmath.org/notes/")?.decision).toBe("reject");
    });

    it("accepts a prefix by click and another by key; domains --json shows them at once; payloads inert", async () => {
      const opened = await open(browser, url);
      const { page } = opened;
      await page.screenshot({ path: path.join(SHOTS, "review.png") }); // what a person sees first
      const cards = page.locator(".prefix");
      const prefixes = await cards.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.prefix));
      expect(prefixes).toContain("planetmath.org/");
      expect(prefixes).toContain("planetmath.org/notes/");
      // by mouse: the notes prefix (rejected above) is accepted with a note
      const notes = page.locator('.prefix[data-prefix="planetmath.org/notes/"]');
      await notes.locator("input.note").fill("lecture notes, all math");
      await notes.locator('button[data-decision="accept"]').click();
      await expect.poll(() => page.locator("#status").innerText(), { timeout: 15_000 }).toMatch(/planetmath\.org\/notes\/: accept recorded/);
      // by key: move to the host prefix with j/k, then a
      const target = prefixes.indexOf("planetmath.org/");
      await page.locator("body").click({ position: { x: 5, y: 5 } });
      for (let i = 0; i < prefixes.length; i++) await page.keyboard.press("k");
      for (let i = 0; i < target; i++) await page.keyboard.press("j");
      await page.keyboard.press("a");
      await expect.poll(() => page.locator("#status").innerText(), { timeout: 15_000 }).toMatch(/planetmath\.org\/: accept recorded/);
      const d = await decisions();
      expect(d.get("planetmath.org/notes/")).toMatchObject({ decision: "accept", who: "tester", note: "lecture notes, all math" });
      expect(d.get("planetmath.org/")).toMatchObject({ decision: "accept", who: "tester" });
      // s skips: the next prefix, nothing recorded
      for (let i = 0; i < prefixes.length; i++) await page.keyboard.press("k");
      await page.keyboard.press("s");
      await expect.poll(() => page.locator("#status").innerText(), { timeout: 15_000 }).toBe(`${prefixes[0]}: skipped`);
      expect(await decisions()).toEqual(d);
      // the payload page is a sample under planetmath.org/notes/: text, not markup
      expect(await notes.innerText()).toContain(PAYLOAD_TITLE);
      expect(await notes.innerText()).toContain(`<script>alert("text")</script>`);
      await expectInert(opened, 1); // the one script is the page's own
      await page.screenshot({ path: path.join(SHOTS, "review-decided.png") });
      await page.close();
    });

    it("a page of another origin cannot record a decision, by form or by fetch", async () => {
      const target = `${url}api/decision`;
      const evil = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        // a text/plain form whose body is JSON, and a no-cors fetch: the classic CSRF shapes
        res.end(`<form id="f" method="POST" action="${target}" enctype="text/plain"><input name='{"prefix":"planetmath.org/","decision":"reject","x":"' value='"}'></form>
<script>fetch(${JSON.stringify(target)}, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: JSON.stringify({ prefix: "planetmath.org/", decision: "reject" }) }).finally(() => document.getElementById("f").submit());</script>`);
      });
      await new Promise<void>((r) => evil.listen(0, "127.0.0.1", () => r()));
      try {
        const port = (evil.address() as AddressInfo).port;
        const { page } = await open(browser, `http://127.0.0.1:${port}/`);
        await page.waitForURL(/\/api\/decision$/);
        expect(await page.locator("body").innerText()).toMatch(/refused: a request from another origin \(http:\/\/127\.0\.0\.1:\d+\)/);
        await page.close();
      } finally {
        evil.close();
      }
      expect((await decisions()).get("planetmath.org/")?.decision).toBe("accept");
    });

    it("refuses decisions with a message while a round holds the run", async () => {
      const lock = RunLock.acquire(runDir, "round");
      try {
        const { page } = await open(browser, url);
        expect(await page.locator("#busy").innerText()).toMatch(/holds this run: decisions are refused/);
        await page.locator('.prefix[data-prefix="planetmath.org/notes/"] button[data-decision="reject"]').click();
        await expect.poll(() => page.locator("#status").innerText(), { timeout: 15_000 }).toMatch(/not recorded: .*round/);
        expect(await page.locator("#status").getAttribute("class")).toBe("error");
        await page.close();
      } finally {
        lock.release();
      }
      expect((await decisions()).get("planetmath.org/notes/")?.decision).toBe("accept");
    });
  });
});
