import fs from "node:fs";
import zlib from "node:zlib";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryLogger } from "../../src/core/log.js";
import { DEFAULT_HTTP, type HttpOptions } from "../../src/warc/http.js";
import { httpSource } from "../../src/warc/source.js";
import { comparable, fixture, readAll, runCli } from "../helpers.js";
import { type FaultServer, type Faults, startFaultServer } from "../../scripts/chaos/faultserver.js";

const CC = fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz");
const WGET = fixture("warc", "dolma-wget-sample-0000.warc.gz");
const ccBytes = fs.readFileSync(CC);
const size = ccBytes.length;

const dispatcher = new Agent({ keepAliveTimeout: 10, connections: 8 });
const opts = (over: Partial<HttpOptions> = {}): HttpOptions => ({ ...DEFAULT_HTTP, backoffMs: 5, maxBackoffMs: 20, stallMs: 5_000, dispatcher, ...over });

let local: Array<Record<string, unknown>>;
beforeAll(async () => {
  local = (await readAll(CC)).pages.map(comparable);
});
afterAll(async () => {
  await dispatcher.close();
});

async function serve(path: string, faults: Faults, fn: (s: FaultServer) => Promise<void>): Promise<void> {
  const s = await startFaultServer(new Map([[path, ccBytes]]), new Map([[path, faults]]));
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

describe("HTTP sources: the pages read over a faulty network equal the local read", () => {
  it("plain transfer", async () => {
    await serve("/a.warc.gz", {}, async (s) => {
      const { pages, stats } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts()));
      expect(pages.map(comparable)).toEqual(local);
      expect(stats.bytesIn).toBe(size);
      expect(s.requests).toHaveLength(1);
    });
  });

  it("503 SlowDown and 429 bursts are retried with backoff", async () => {
    await serve("/a.warc.gz", { statuses: [503, 503, 429, 500] }, async (s) => {
      const logger = memoryLogger();
      const { pages } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts({ logger })));
      expect(pages.map(comparable)).toEqual(local);
      expect(s.requests.map((r) => r.status)).toEqual([503, 503, 429, 500, 200]);
      expect(logger.lines.filter((l) => l.event === "http_retry")).toHaveLength(4);
    });
  });

  it("a connection reset mid-body resumes with a Range request from the next byte", async () => {
    await serve("/a.warc.gz", { resetAfter: [40_000, 30_000] }, async (s) => {
      const { pages, stats } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts()));
      expect(pages.map(comparable)).toEqual(local);
      expect(stats.bytesIn).toBe(size);
      expect(s.requests.map((r) => [r.status, r.range])).toEqual([
        [200, undefined],
        [206, "bytes=40000-"],
        [206, "bytes=70000-"],
      ]);
    });
  });

  it("a stalled transfer is dropped and resumed", async () => {
    await serve("/a.warc.gz", { stallAfter: [{ bytes: 50_000, ms: 3_000 }] }, async (s) => {
      const t0 = Date.now();
      const { pages } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts({ stallMs: 300 })));
      expect(pages.map(comparable)).toEqual(local);
      expect(Date.now() - t0).toBeLessThan(2_900); // well under the 3 s stall: the transfer was resumed, not waited out
      expect(s.requests[1]).toMatchObject({ status: 206, range: "bytes=50000-" });
    });
  });

  it("a server that ignores Range is read from the start and the known bytes skipped", async () => {
    await serve("/a.warc.gz", { resetAfter: [60_000], ignoreRange: true }, async (s) => {
      const { pages, stats } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts()));
      expect(pages.map(comparable)).toEqual(local);
      expect(stats.bytesIn).toBe(size);
      expect(s.requests.map((r) => r.status)).toEqual([200, 200]);
    });
  });

  it("a file that changes between requests (new ETag) fails instead of being spliced", async () => {
    await serve("/a.warc.gz", { resetAfter: [60_000], changeEtag: true }, async (s) => {
      const { stats } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts()));
      expect(stats.filesFailed).toBe(1);
      expect(stats.dropped.get("source_failed")).toBe(1);
      expect(stats.issues.find((i) => i.reason === "source_failed")!.message).toMatch(/changed during the transfer/);
    });
  });

  it("a body without Content-Length that a closed connection cuts is resumed with Range, not taken for the end", async () => {
    await serve("/a.warc.gz", { closeEarly: [40_000, 30_000] }, async (s) => {
      const { pages, stats } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts()));
      expect(pages.map(comparable)).toEqual(local);
      expect(stats.dropped.toJSON()).toEqual((await readAll(CC)).stats.dropped.toJSON());
      expect(stats.bytesIn).toBe(size);
      // each end of a body without a length is checked by asking for the bytes after it
      expect(s.requests.map((r) => [r.status, r.range])).toEqual([
        [200, undefined],
        [206, "bytes=40000-"],
        [206, "bytes=70000-"],
      ]);
    });
  });

  it("a server that cuts every body without a length and ignores Range fails the source (exit 4), never a silent end", async () => {
    await serve("/a.warc.gz", { closeEarly: [40_000, 40_000, 40_000], ignoreRange: true }, async (s) => {
      const { pages, stats } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts()));
      expect(pages.length).toBeGreaterThan(0);
      expect(pages.length).toBeLessThan(local.length);
      expect(stats.filesFailed).toBe(1);
      expect(stats.dropped.get("source_failed")).toBe(1);
      expect(stats.issues.find((i) => i.reason === "source_failed")!.message).toMatch(/a\.warc\.gz @40000: the transfer ends at byte 40000 without a length.*cut/);
    });
  });

  it("a whole file served without Content-Length is read once and its end confirmed", async () => {
    await serve("/a.warc.gz", { noLength: true }, async (s) => {
      const { pages, stats } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts()));
      expect(pages.map(comparable)).toEqual(local);
      expect(stats.filesFailed).toBe(0);
      expect(s.requests.map((r) => r.status)).toEqual([200, 416]);
    });
  });

  it("an HTML error page served as 200 is never parsed as WARC", async () => {
    await serve("/a.warc.gz", { contentType: "text/html; charset=utf-8" }, async (s) => {
      const { pages, stats } = await readAll(httpSource(`${s.url}/a.warc.gz`, opts()));
      expect(pages).toHaveLength(0);
      expect(stats.dropped.toJSON()).toEqual({ source_failed: 1 });
      expect(stats.issues[0]!.message).toMatch(/not a WARC file/);
    });
  });

  it("404 fails at once; endless 503s fail after the retries, naming URL and offset", async () => {
    await serve("/a.warc.gz", { statuses: [503, 503, 503, 503] }, async (s) => {
      const missing = await readAll(httpSource(`${s.url}/missing.warc.gz`, opts()));
      expect(missing.stats.issues[0]!.message).toMatch(/missing\.warc\.gz @0: HTTP 404/);
      expect(s.requests.filter((r) => r.path === "/missing.warc.gz")).toHaveLength(1);
      const busy = await readAll(httpSource(`${s.url}/a.warc.gz`, opts({ retries: 2 })));
      expect(busy.stats.issues[0]!.message).toMatch(/a\.warc\.gz @0: giving up after 2 retries: HTTP 503/);
      expect(s.requests.filter((r) => r.path === "/a.warc.gz")).toHaveLength(3);
    });
  });
});

describe("Common Crawl crawl ids through a listing", () => {
  it("resolves CC-MAIN-… via crawl-data/<id>/warc.paths.gz, picks segments and limits files", async () => {
    const seg = (s: string, f: string) => `crawl-data/CC-MAIN-2099-01/segments/${s}/warc/${f}`;
    const paths = [seg("100.1", "a.warc.gz"), seg("100.1", "b.warc.gz"), seg("200.2", "c.warc.gz"), seg("300.3", "d.warc.gz")];
    const files = new Map<string, Buffer>([
      ["/crawl-data/CC-MAIN-2099-01/warc.paths.gz", zlib.gzipSync(paths.join("\n") + "\n")],
      ...paths.map((p, i) => [`/${p}`, fs.readFileSync(i % 2 ? WGET : CC)] as [string, Buffer]),
    ]);
    const s = await startFaultServer(files, new Map([[`/${paths[2]}`, { statuses: [503], resetAfter: [10_000] }]]));
    try {
      const all = await runCli(["pages", "CC-MAIN-2099-01", "--cc-base-url", s.url, "--segments", "1-2", "--jsonl"]);
      expect(all.code).toBe(0);
      const lines = all.stdout.trim().split("\n").map((l) => JSON.parse(l) as { warc_file: string; url: string });
      expect(new Set(lines.map((l) => l.warc_file))).toEqual(new Set([`${s.url}/${paths[2]}`, `${s.url}/${paths[3]}`]));
      expect(lines).toHaveLength(16 + 22);
      expect(all.stderr).toMatch(/38 pages from 2 files/);
      const limited = await runCli(["pages", "CC-MAIN-2099-01", "--cc-base-url", s.url, "--segments", "100.1", "--limit", "1"]);
      expect(limited.stdout.trim().split("\n")).toHaveLength(16);
      const bad = await runCli(["pages", "CC-MAIN-2099-01", "--cc-base-url", s.url, "--segments", "7"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--segments 7: the listing has segments 0-2/);
      const noCrawl = await runCli(["pages", "CC-MAIN-2099-02", "--cc-base-url", s.url, "--retries", "0"]);
      expect(noCrawl.code).toBe(3);
      expect(noCrawl.stderr).toMatch(/cannot fetch the file listing .*CC-MAIN-2099-02\/warc\.paths\.gz/);
    } finally {
      await s.close();
    }
  });
});
