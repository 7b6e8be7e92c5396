import path from "node:path";
import type { Logger } from "../core/log.js";
import { type WarcStats, streamPages } from "../warc/pages.js";
import { type ResolveOptions, resolveSources } from "../warc/source.js";
import { normalizeUrl } from "../dedup/url.js";
import { type RawDoc, isDocFile, isHtmlFile, readDocFile, readHtmlFile } from "./inputs.js";

export interface WarcReadOptions {
  resolve: ResolveOptions;
  concurrency: number;
  maxRecordBytes: number;
}

/** Documents from mixed sources: JSON-lines (isJsonl), Parquet and HTML files as given, the rest read as WARC. */
export async function* rawDocs(specList: string[], warc: WarcReadOptions, logger: Logger, warcStats: WarcStats, warn: (m: string) => void): AsyncGenerator<RawDoc> {
  const warcSpecs: string[] = [];
  for (const spec of specList) {
    const file = path.resolve(warc.resolve.cwd, spec);
    if (isDocFile(spec)) {
      yield* readDocFile(file, spec, (i) => {
        logger.log("warn", "bad_jsonl_line", { ...i });
        warn(`${i.file}:${i.line}: ${i.message}`);
      });
    } else if (isHtmlFile(spec)) {
      yield readHtmlFile(file, spec);
    } else {
      warcSpecs.push(spec);
    }
  }
  if (warcSpecs.length === 0) return;
  const sources = await resolveSources(warcSpecs, warc.resolve);
  const pages = streamPages(sources, { concurrency: warc.concurrency, maxRecordBytes: warc.maxRecordBytes, logger, onIssue: (i) => warn(i.message) }, warcStats);
  for await (const p of pages) yield { id: `${p.warcFile}@${p.offset}`, url: p.url, body: p.body, contentType: p.contentType, key: normalizeUrl(p.url) };
}
