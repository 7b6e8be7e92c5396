import fs from "node:fs";
import { Agent } from "undici";
import { nullLogger } from "../../src/core/log.js";
import { DEFAULT_HTTP } from "../../src/warc/http.js";
import { WarcStats, readPages } from "../../src/warc/pages.js";
import { type WarcSource, httpSource, localSource } from "../../src/warc/source.js";
import { CC_EXCERPT, type Row, note, row, sha1, within } from "./common.js";
import { type Faults, startFaultServer } from "./faultserver.js";

/**
 * The loopback server's fault modes. A mode the client can recover from must give exactly the
 * pages of the local file; one it cannot (the file changed, a cut it cannot confirm) must fail
 * the source loudly (source_failed), never pass for a shorter file.
 */
async function read(source: WarcSource): Promise<{ pages: string[]; stats: WarcStats }> {
  const stats = new WarcStats();
  const pages: string[] = [];
  for await (const p of readPages(source, { maxRecordBytes: 8 << 20, logger: nullLogger }, stats)) pages.push(`${p.url} ${sha1(p.body)}`);
  return { pages, stats };
}

export async function httpModes(): Promise<Row> {
  const r = row("HTTP fault modes");
  const bytes = fs.readFileSync(CC_EXCERPT);
  const local = await read(localSource(CC_EXCERPT));
  const third = Math.floor(bytes.length / 3);
  const modes: Array<[string, Faults, "same" | "fail"]> = [
    ["503 and 429 bursts", { statuses: [503, 503, 429, 503, 500] }, "same"],
    ["connection resets mid-body", { resetAfter: [third, third] }, "same"],
    ["stall in headers", { stallHeaders: [3_000] }, "same"],
    ["stall in body", { stallAfter: [{ bytes: third, ms: 3_000 }] }, "same"],
    ["truncation with Content-Length (then resumed)", { resetAfter: [bytes.length - 100] }, "same"],
    ["truncation without Content-Length (then resumed)", { closeEarly: [third, third] }, "same"],
    ["no Content-Length at all", { noLength: true }, "same"],
    ["Range ignored", { resetAfter: [third], ignoreRange: true }, "same"],
    ["truncation without Content-Length, Range ignored", { closeEarly: [third, third, third], ignoreRange: true }, "fail"],
    ["the file changes mid-transfer (new ETag)", { resetAfter: [third], changeEtag: true }, "fail"],
    ["an HTML error page with status 200", { contentType: "text/html" }, "fail"],
    ["endless 503", { statuses: Array(20).fill(503) }, "fail"],
  ];
  const dispatcher = new Agent({ keepAliveTimeout: 10, connections: 8 });
  try {
    for (const [name, faults, want] of modes) {
      r.tried++;
      r.compared++;
      const server = await startFaultServer(new Map([["/f.warc.gz", bytes]]), new Map([["/f.warc.gz", faults]]));
      try {
        const http = { ...DEFAULT_HTTP, retries: 6, backoffMs: 5, maxBackoffMs: 20, stallMs: 500, dispatcher };
        const got = await within(60_000, () => read(httpSource(`${server.url}/f.warc.gz`, http)));
        if (got === "hung") {
          r.hung++;
          note(r, `${name}: no end in 60 s`, true);
          continue;
        }
        const same = got.pages.length === local.pages.length && got.pages.every((p, i) => p === local.pages[i]);
        const failed = got.stats.filesFailed > 0;
        if (want === "same" ? same && !failed : failed) r.identical++;
        else note(r, `${name}: ${got.pages.length} of ${local.pages.length} pages, ${failed ? "failed" : "not failed"} (${got.stats.dropped.describe()})`);
        if (!same && !failed && got.stats.errors() === 0) {
          r.lost++;
          note(r, `${name}: ${local.pages.length - got.pages.length} pages short with nothing counted`, true);
        }
      } catch (err) {
        r.crashed++;
        note(r, `${name}: threw ${(err as Error).message}`, true);
      } finally {
        await server.close();
      }
    }
  } finally {
    await dispatcher.close();
  }
  return r;
}
