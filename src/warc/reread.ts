import fs from "node:fs";
import path from "node:path";
import { InputError, SourceError, errorMessage } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { OffsetKind } from "./framer.js";
import { type HttpOptions, httpBytes } from "./http.js";
import type { Page } from "./page.js";
import { WarcStats, readPages } from "./pages.js";
import { type WarcSource, httpSource, localSource } from "./source.js";

/*
 * A stored page read again from its WARC file by the place the crawl recorded: one local read at
 * its offset, or one HTTP Range request, for the records a range decodes alone (a gzip member as
 * Common Crawl writes them, or a record of an uncompressed WARC). A record inside a whole-file
 * gzip ("decompressed" offsets) has no such range: its file is read from the start to it.
 */

/** Where the crawl found a page (documents.warc_file/warc_offset/warc_length/offset_kind). */
export interface RecordPlace {
  warcFile: string;
  offset: number;
  length: number;
  offsetKind: OffsetKind;
  /** The page's URL as stored: a record there for another URL is an error (the file changed). */
  url?: string;
}

export interface RereadOptions {
  http: HttpOptions;
  maxRecordBytes: number;
  logger: Logger;
  /** Where a relative file name resolves (the crawl's working folder). */
  cwd: string;
}

const isUrl = (name: string) => /^https?:\/\//i.test(name);

/** The bytes of a record that decodes alone: a read at its offset, or one bounded Range request. */
export async function recordBytes(r: RecordPlace, o: Pick<RereadOptions, "http" | "cwd">): Promise<Buffer> {
  if (isUrl(r.warcFile)) {
    const parts: Buffer[] = [];
    for await (const chunk of httpBytes(r.warcFile, r.offset, o.http, { end: r.offset + r.length })) parts.push(chunk);
    return Buffer.concat(parts);
  }
  const file = path.resolve(o.cwd, r.warcFile);
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw new SourceError(r.warcFile, errorMessage(err), r.offset, { cause: err });
  }
  try {
    const buf = Buffer.alloc(r.length);
    let got = 0;
    while (got < r.length) {
      const n = fs.readSync(fd, buf, got, r.length - got, r.offset + got);
      if (n === 0) throw new SourceError(r.warcFile, `ends at byte ${r.offset + got}, before ${r.offset + r.length}: the file is shorter than it was when read`, r.offset + got);
      got += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/** A source of the given bytes only, named as the file they came from. */
function bytesSource(name: string, bytes: Buffer): WarcSource {
  return {
    name,
    open: (start = 0) =>
      (async function* () {
        yield bytes.subarray(start);
      })(),
  };
}

/**
 * The page at `r`, read again: the same Page the crawl read there (its file, offset, length and
 * kind as recorded). A record that is not there, or not an HTML response, is an InputError naming
 * the file and offset and what was found instead.
 */
export async function rereadPage(r: RecordPlace, o: RereadOptions): Promise<Page> {
  const p = await pageAt(r, o);
  if (r.url !== undefined && p.url !== r.url) throw new InputError(`${r.warcFile} at offset ${r.offset}: the page there is ${p.url}, not ${r.url}: was the file changed since it was read?`);
  return p;
}

async function pageAt(r: RecordPlace, o: RereadOptions): Promise<Page> {
  const where = `${r.warcFile} at offset ${r.offset}`;
  const stats = new WarcStats();
  const read = { maxRecordBytes: o.maxRecordBytes, logger: o.logger };
  if (r.offsetKind === "decompressed") {
    // no byte range decodes alone: read the file from its start to the record
    const source = isUrl(r.warcFile) ? httpSource(r.warcFile, o.http) : localSource(path.resolve(o.cwd, r.warcFile), r.warcFile);
    for await (const p of readPages(source, read, stats)) {
      if (p.offset === r.offset) return p;
      if (p.offset > r.offset) break;
    }
    throw new InputError(`${where} (in the decompressed stream): no HTML page there${found(stats)}; was the file changed since it was read?`);
  }
  const bytes = await recordBytes(r, o);
  for await (const p of readPages(bytesSource(r.warcFile, bytes), read, stats)) {
    if (p.offset !== 0) break;
    if (r.offsetKind !== p.offsetKind) break;
    return { ...p, offset: r.offset, length: r.length };
  }
  throw new InputError(`${where} (${r.length} bytes, ${r.offsetKind}): no HTML page there${found(stats)}; was the file changed since it was read?`);
}

/** What the reader found instead of a page, for the error. */
function found(stats: WarcStats): string {
  const i = stats.issues[0];
  if (i) return `: ${i.reason}: ${i.message}`;
  const reasons = stats.dropped.describe();
  return reasons ? ` (records: ${reasons})` : "";
}
