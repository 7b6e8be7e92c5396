import fs from "node:fs";
import path from "node:path";
import { InputError } from "../core/errors.js";
import { filesUnder } from "../core/paths.js";
import type { Logger } from "../core/log.js";
import { type WarcStats, streamPages } from "../warc/pages.js";
import { type ResolveOptions, WARC_FILE, isLocalSpec, resolveSources } from "../warc/source.js";
import { normalizeUrl } from "../dedup/url.js";
import { type RawDoc, isDocFile, isHtmlFile, readDocFile, readHtmlFile } from "./inputs.js";

export interface WarcReadOptions {
  resolve: ResolveOptions;
  concurrency: number;
  maxRecordBytes: number;
}

/**
 * A local folder's files that hold documents or pages (JSON lines, Parquet, HTML, WARC), walked
 * in path order (hidden folders skipped), named as `spec` joined with their path in it; not a
 * folder: undefined.
 */
function folderFiles(spec: string, cwd: string): string[] | undefined {
  if (!isLocalSpec(spec)) return undefined;
  const dir = path.resolve(cwd, spec);
  try {
    if (!fs.statSync(dir).isDirectory()) return undefined;
  } catch {
    return undefined; // not there: resolveSources says so
  }
  return filesUnder(dir, (n) => isDocFile(n) || isHtmlFile(n) || WARC_FILE.test(n)).map((r) => path.join(spec, r));
}

/** Sources with every local folder replaced by the files in it (folderFiles); an empty folder is an input error. */
export function expandFolders(specList: string[], cwd: string): string[] {
  const specs: string[] = [];
  for (const spec of specList) {
    const inFolder = folderFiles(spec, cwd);
    if (inFolder?.length === 0) throw new InputError(`directory ${spec} holds no WARC, HTML, JSON-lines or Parquet files`);
    specs.push(...(inFolder ?? [spec]));
  }
  return specs;
}

/**
 * Documents from mixed sources: JSON-lines (isJsonl), Parquet and HTML files as given, the rest
 * read as WARC; a local folder is walked for all of these.
 */
export async function* rawDocs(specList: string[], warc: WarcReadOptions, logger: Logger, warcStats: WarcStats, warn: (m: string) => void): AsyncGenerator<RawDoc> {
  const warcSpecs: string[] = [];
  for (const spec of expandFolders(specList, warc.resolve.cwd)) {
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
