import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { nullLogger } from "../../src/core/log.js";
import { WarcStats, readPages } from "../../src/warc/pages.js";
import { type WarcSource, localSource } from "../../src/warc/source.js";
import { CC_EXCERPT, type Row, note, rng, row, sha1, within } from "./common.js";
import { members, responseRecord } from "./records.js";

/**
 * WARC mutants of a real Common Crawl excerpt, in its three layouts (one gzip member per
 * record, plain, one gzip stream for the whole file). Each mutant is read as the tool reads a
 * file; the pages it yields are compared with the pages of the records the mutation left alone.
 */
type Layout = "members" | "plain" | "gzip";

interface Mutant {
  kind: string;
  layout: Layout;
  bytes: Buffer;
  /** Pages that must come out (by url + body hash); undefined: none known, only silence is checked. */
  expect?: Set<string>;
  /** Pages a mutation may legitimately remove without an error (those of the records it changed). */
  spared?: Set<string>;
}

const key = (url: string, body: Buffer) => `${url}\u0000${sha1(body)}`;

function memorySource(name: string, bytes: Buffer): WarcSource {
  return {
    name,
    open: (start = 0) =>
      (async function* () {
        for (let at = start; at < bytes.length; at += 1 << 20) yield bytes.subarray(at, Math.min(bytes.length, at + (1 << 20)));
      })(),
  };
}

async function read(source: WarcSource): Promise<{ keys: Set<string>; stats: WarcStats }> {
  const stats = new WarcStats();
  const keys = new Set<string>();
  for await (const p of readPages(source, { maxRecordBytes: 8 << 20, logger: nullLogger }, stats)) keys.add(key(p.url, p.body));
  return { keys, stats };
}

function layout(records: Buffer[], l: Layout): Buffer {
  if (l === "members") return Buffer.concat(records.map((r) => zlib.gzipSync(r)));
  const plain = Buffer.concat(records);
  return l === "plain" ? plain : zlib.gzipSync(plain);
}

function withHeader(record: Buffer, edit: (header: string) => string): Buffer {
  const end = record.indexOf("\r\n\r\n") + 4;
  return Buffer.concat([Buffer.from(edit(record.subarray(0, end).toString("latin1")), "latin1"), record.subarray(end)]);
}

export async function warcMutants(count: number, seed: number, opts: { huge: boolean; tmp: string }): Promise<Row> {
  const r = row("WARC mutants");
  const R = rng(seed);
  const records = members(CC_EXCERPT).map((m) => m.data);
  // the page of each record, if any
  const pageOf: Array<string | undefined> = [];
  for (const rec of records) pageOf.push([...(await read(memorySource("record", rec))).keys][0]);
  const all = new Set(pageOf.filter((k): k is string => k !== undefined));
  const except = (idx: Iterable<number>) => {
    const gone = new Set([...idx].map((i) => pageOf[i]).filter((k): k is string => k !== undefined));
    return { expect: new Set([...all].filter((k) => !gone.has(k))), spared: gone };
  };
  const original = fs.readFileSync(CC_EXCERPT);
  const ranges = members(CC_EXCERPT).map((m) => [m.offset, m.offset + m.length] as const);
  const junk = () => {
    const n = 1 + R.int(R.next() < 0.3 ? 8 : 5000);
    const b = R.next() < 0.5 ? crypto.randomBytes(n) : Buffer.from("<html>junk line\r\n".repeat(Math.ceil(n / 17)).slice(0, n), "latin1");
    if (R.next() < 0.1 && b.length > 2) [b[0], b[1]] = [0x1f, 0x8b]; // a false gzip magic
    return b;
  };
  const layouts: Layout[] = ["members", "plain", "gzip"];
  const kinds = ["flip-compressed", "flip-decompressed", "truncate", "content-length", "junk-before", "junk-between", "version", "bare-lf"] as const;

  const make = (kind: (typeof kinds)[number], l: Layout): Mutant => {
    const i = R.int(records.length);
    switch (kind) {
      case "flip-compressed": {
        const bytes = Buffer.from(l === "members" ? original : layout(records, l));
        const hit = new Set<number>();
        for (let k = 1 + R.int(8); k > 0; k--) {
          const at = R.int(bytes.length);
          bytes[at] = bytes[at]! ^ (1 << R.int(8));
          hit.add(ranges.findIndex(([a, b]) => at >= a && at < b));
        }
        // a flipped plain file damages the records it lands in; a whole-file gzip stream, everything after it
        if (l === "members") return { kind, layout: l, bytes, ...except(hit) };
        if (l === "plain") {
          let at = 0;
          const idx = new Set<number>();
          records.forEach((rec, j) => {
            const end = at + rec.length;
            for (let p = at; p < end; p++) if (bytes[p] !== records[j]![p - at]) idx.add(j);
            at = end;
          });
          return { kind, layout: l, bytes, ...except(idx) };
        }
        return { kind, layout: l, bytes };
      }
      case "flip-decompressed": {
        const recs = records.slice();
        const rec = Buffer.from(recs[i]!);
        for (let k = 1 + R.int(8); k > 0; k--) {
          const at = R.int(rec.length);
          rec[at] = rec[at]! ^ (1 << R.int(8));
        }
        recs[i] = rec;
        return { kind, layout: l, bytes: layout(recs, l), ...except([i]) };
      }
      case "truncate": {
        const full = l === "members" ? original : layout(records, l);
        const cut = R.int(full.length);
        const bytes = full.subarray(0, cut);
        if (l === "gzip") return { kind, layout: l, bytes };
        let at = 0;
        const gone: number[] = [];
        records.forEach((rec, j) => {
          const len = l === "members" ? ranges[j]![1] - ranges[j]![0] : rec.length;
          if (at + len > cut) gone.push(j);
          at += len;
        });
        return { kind, layout: l, bytes, ...except(gone) };
      }
      case "content-length": {
        const recs = records.slice();
        const delta = R.pick(["+1", "-1", "+1000", "-1000", "huge", "negative", "nan"] as const);
        recs[i] = withHeader(recs[i]!, (h) =>
          h.replace(/Content-Length: (\d+)/i, (_m, n: string) => {
            const v = Number(n);
            const to = { "+1": v + 1, "-1": v - 1, "+1000": v + 1000, "-1000": Math.max(0, v - 1000), huge: "99999999999", negative: "-5", nan: "abc" }[delta];
            return `Content-Length: ${to}`;
          }),
        );
        return { kind: `${kind} ${delta}`, layout: l, bytes: layout(recs, l), ...except([i]) };
      }
      case "junk-before":
        return { kind, layout: l, bytes: Buffer.concat([junk(), l === "members" ? original : layout(records, l)]), expect: new Set(all) };
      case "junk-between": {
        if (l === "members") {
          const at = ranges[i]![0];
          return { kind, layout: l, bytes: Buffer.concat([original.subarray(0, at), junk(), original.subarray(at)]), expect: new Set(all) };
        }
        const recs = records.slice();
        recs.splice(i, 0, junk());
        return { kind, layout: l, bytes: layout(recs, l), expect: new Set(all) };
      }
      case "version": {
        const recs = records.slice();
        const v = R.pick(["WARC/0.18", "WARC/1.1", "WARC/2.0"]);
        recs[i] = withHeader(recs[i]!, (h) => h.replace(/^WARC\/\d+\.\d+/, v));
        return { kind: `${kind} ${v}`, layout: l, bytes: layout(recs, l), expect: new Set(all) };
      }
      case "bare-lf": {
        const recs = records.map((rec) => withHeader(rec, (h) => h.replace(/\r\n/g, "\n")));
        return { kind, layout: l, bytes: layout(recs, l), expect: new Set(all) };
      }
    }
  };

  const mutants: Array<() => Mutant> = [];
  for (let n = 0; n < count; n++) mutants.push(() => make(kinds[n % kinds.length]!, layouts[Math.floor(n / kinds.length) % layouts.length]!));
  if (opts.huge) {
    // one 200 MB response record in the middle of the file, in two layouts
    for (const l of ["members", "plain"] as const) {
      mutants.push(() => {
        const big = responseRecord("https://huge.example/", crypto.randomBytes(100 << 20).toString("hex"));
        const recs = records.slice();
        recs.splice(Math.floor(recs.length / 2), 0, big);
        const file = path.join(opts.tmp, `huge.${l}.warc`);
        fs.writeFileSync(file, layout(recs, l));
        return { kind: "200 MB record", layout: l, bytes: file as unknown as Buffer, expect: new Set(all) };
      });
    }
  }

  for (const makeOne of mutants) {
    const m = makeOne();
    r.tried++;
    const source = typeof (m.bytes as unknown) === "string" ? localSource(m.bytes as unknown as string) : memorySource(`mutant.${m.layout}`, m.bytes);
    let got: { keys: Set<string>; stats: WarcStats } | "hung";
    try {
      got = await within(60_000, () => read(source));
    } catch (err) {
      r.crashed++;
      note(r, `${m.kind} (${m.layout}): threw ${(err as Error).message}`, true);
      continue;
    }
    if (got === "hung") {
      r.hung++;
      note(r, `${m.kind} (${m.layout}): no end in 60 s`, true);
      continue;
    }
    const said = got.stats.errors() > 0 || got.stats.filesFailed > 0;
    const missing = [...(m.expect ?? all)].filter((k) => !got.keys.has(k) && !(m.spared?.has(k) ?? false));
    if (missing.length > 0 && !said) {
      r.lost++;
      note(r, `${m.kind} (${m.layout}): ${missing.length} page(s) missing, nothing counted`, true);
    }
    if (m.expect) {
      r.compared++;
      if (missing.length === 0) r.identical++;
      else note(r, `${m.kind} (${m.layout}): ${missing.length} of ${m.expect.size} pages that should survive are missing (${got.stats.dropped.describe()})`);
    }
    if (typeof (m.bytes as unknown) === "string") fs.rmSync(m.bytes as unknown as string, { force: true });
  }
  return r;
}
