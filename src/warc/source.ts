import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { InputError, SourceError, UsageError, errorMessage } from "../core/errors.js";
import { filesUnder } from "../core/paths.js";
import { type HttpOptions, fetchBuffer, httpBytes } from "./http.js";

/** A WARC file to read: a local path or an HTTP(S) URL. */
export interface WarcSource {
  /** As the user gave it (path) or resolved it (URL): recorded on every page. */
  name: string;
  /** The file's bytes from `start` to its end. */
  open(start?: number): AsyncIterable<Buffer>;
  /**
   * For a transfer (HTTP): whether the last `open` was seen to reach the file's end, by a length,
   * chunked framing or a 416 — not merely a closed connection. Undefined for local files.
   */
  endConfirmed?: () => boolean | undefined;
  /** A local file's path: such a file can be read in ranges on the extraction workers (extract/ranges.ts). */
  file?: string;
  /** An HTTP(S) file's URL and options: read in ranges on the workers too, with Range requests. */
  http?: { url: string; options: HttpOptions };
}

export const DEFAULT_CC_BASE_URL = "https://data.commoncrawl.org";
const CRAWL_ID = /^CC-MAIN-\d{4}-\d{2}$/;
export const WARC_FILE = /\.warc(\.gz)?$/i;

export interface ResolveOptions {
  cwd: string;
  http: HttpOptions;
  /** Base URL of a Common Crawl mirror (listings and files). */
  ccBaseUrl: string;
  /** Segment picks for crawl ids: indices (0-based), ranges "a-b", or segment ids. */
  segments: string[];
  /** At most this many files from each crawl listing (0: all). */
  limit: number;
}

export function localSource(file: string, name = file): WarcSource {
  return {
    name,
    file,
    open(start = 0) {
      return (async function* () {
        const stream = fs.createReadStream(file, { start, highWaterMark: 1 << 20 });
        try {
          for await (const chunk of stream) yield chunk as Buffer;
        } catch (err) {
          throw new SourceError(name, errorMessage(err), undefined, { cause: err });
        }
      })();
    },
  };
}

/** An HTTP(S) file; `etag`: the ETag an earlier request saw (its ranges read apart), another one fails it. */
export function httpSource(url: string, http: HttpOptions, etag?: string): WarcSource {
  let confirmed: boolean | undefined;
  return {
    name: url,
    http: { url, options: http },
    open: (start = 0) => {
      confirmed = undefined;
      return httpBytes(url, start, http, { onEnd: (end) => (confirmed = end.confirmed), ...(etag !== undefined ? { etag } : {}) });
    },
    endConfirmed: () => confirmed,
  };
}

/** Picks segments from a listing's segment ids by index, range or id. */
export function pickSegments(all: string[], picks: string[]): Set<string> {
  const chosen = new Set<string>();
  for (const pick of picks) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(pick);
    if (range) {
      const from = Number(range[1]);
      const to = range[2] === undefined ? from : Number(range[2]);
      if (to < from || from >= all.length) {
        throw new UsageError(`--segments ${pick}: the listing has segments 0-${all.length - 1}`);
      }
      for (let i = from; i <= Math.min(to, all.length - 1); i++) chosen.add(all[i]!);
    } else if (all.includes(pick)) {
      chosen.add(pick);
    } else {
      throw new UsageError(`--segments ${pick}: no such segment in the listing (expected an index, a range a-b, or an id such as ${all[0] ?? "1715971057216.39"})`);
    }
  }
  return chosen;
}

/** Selects files of a `warc.paths` listing by segment and limit; returns full URLs. */
export function selectFromListing(lines: string[], baseUrl: string, segments: string[], limit: number): string[] {
  const paths = lines.map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const segOf = (p: string) => /\/segments\/([^/]+)\//.exec(p)?.[1] ?? "";
  let picked = paths;
  if (segments.length > 0) {
    const order = [...new Set(paths.map(segOf))];
    const chosen = pickSegments(order, segments);
    picked = paths.filter((p) => chosen.has(segOf(p)));
  }
  if (limit > 0) picked = picked.slice(0, limit);
  const base = baseUrl.replace(/\/+$/, "");
  return picked.map((p) => (/^https?:\/\//.test(p) ? p : `${base}/${p.replace(/^\/+/, "")}`));
}

async function readListing(spec: string, opts: ResolveOptions): Promise<string[]> {
  let buf: Buffer;
  if (/^https?:\/\//.test(spec)) {
    try {
      buf = await fetchBuffer(spec, opts.http);
    } catch (err) {
      throw new InputError(`cannot fetch the file listing ${spec}: ${errorMessage(err)}`, { cause: err });
    }
  } else {
    buf = fs.readFileSync(spec);
  }
  try {
    const text = (buf[0] === 0x1f && buf[1] === 0x8b ? zlib.gunzipSync(buf) : buf).toString("utf8");
    return text.split("\n");
  } catch (err) {
    throw new InputError(`the file listing ${spec} is not a (gzipped) list of paths: ${errorMessage(err)}`);
  }
}

/**
 * A source as written, with a local path made absolute (URLs, crawl ids and listings on a
 * server stay as they are): what a run keeps, so that a later invocation from another folder
 * reads, and skips as done, the same files.
 */
export function absoluteSpec(spec: string, cwd: string): string {
  return isLocalSpec(spec) ? path.resolve(cwd, spec) : spec;
}

/** A source that names a local path: not a crawl id, not a URL of any scheme. */
export function isLocalSpec(spec: string): boolean {
  return !CRAWL_ID.test(spec) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(spec);
}

function localFiles(spec: string, cwd: string): WarcSource[] {
  const abs = path.resolve(cwd, spec);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new InputError(`no such file or directory: ${spec}`);
  }
  if (stat.isDirectory()) {
    // walked with its subfolders (a local mirror keeps crawl-data/<crawl>/segments/<id>/warc/),
    // hidden ones skipped; WET and WAT files (.warc.wet.gz, .warc.wat.gz) are not WARCs of pages
    const files = filesUnder(abs, (n) => WARC_FILE.test(n)).map((r) => localSource(path.join(abs, r), path.join(spec, r)));
    if (files.length === 0) throw new InputError(`directory ${spec} holds no .warc or .warc.gz files (its subfolders included)`);
    return files;
  }
  return [localSource(abs, spec)];
}

/**
 * Resolves what the user named into WARC sources: local files and folders, HTTP(S) URLs,
 * Common Crawl crawl ids (through `crawl-data/<id>/warc.paths.gz` at the base URL), and
 * `*.paths` / `*.paths.gz` listings.
 */
export async function resolveSources(specs: string[], opts: ResolveOptions): Promise<WarcSource[]> {
  const out: WarcSource[] = [];
  for (const spec of specs) {
    if (CRAWL_ID.test(spec)) {
      const listing = `${opts.ccBaseUrl.replace(/\/+$/, "")}/crawl-data/${spec}/warc.paths.gz`;
      const urls = selectFromListing(await readListing(listing, opts), opts.ccBaseUrl, opts.segments, opts.limit);
      if (urls.length === 0) throw new InputError(`crawl ${spec}: the listing selects no files`);
      out.push(...urls.map((u) => httpSource(u, opts.http)));
    } else if (/\.paths(\.gz)?$/.test(spec)) {
      const file = /^https?:\/\//.test(spec) ? spec : path.resolve(opts.cwd, spec);
      const urls = selectFromListing(await readListing(file, opts), opts.ccBaseUrl, opts.segments, opts.limit);
      out.push(...urls.map((u) => (/^https?:\/\//.test(u) ? httpSource(u, opts.http) : localSource(u))));
    } else if (/^https?:\/\//.test(spec)) {
      out.push(httpSource(spec, opts.http));
    } else if (!isLocalSpec(spec)) {
      throw new UsageError(`unsupported source ${spec}: use a local path, an http(s) URL or a crawl id such as CC-MAIN-2024-22`);
    } else {
      out.push(...localFiles(spec, opts.cwd));
    }
  }
  return out;
}
