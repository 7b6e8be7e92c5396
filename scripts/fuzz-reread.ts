/**
 * Fuzzes the re-read path (src/warc/reread.ts: a stored page read again by its WARC file, offset,
 * length and kind) with fast-check, on mutations of a real crawl: the bundled sample as Common
 * Crawl writes it (one gzip member per record), uncompressed, and gzipped whole. Each case takes a
 * real page's place and, at random, flips, cuts, inserts or overwrites bytes inside its range or
 * just before it, shifts its offset or length, or names another kind. Properties:
 *   - an untouched place gives back exactly the page the crawl read there;
 *   - a mutated one gives a page or an InputError/SourceError naming the file (never another
 *     error, a crash or a hang): every case must end within --bound-ms;
 *   - read again and extracted on a worker (Extractor.extractAt, as rounds/outside.ts reads pages
 *     outside the candidate pool), the same case gives the same page (file, offset, length, URL,
 *     record id) with an extraction outcome, or the same error as the page's failure.
 * Failing cases are printed with fast-check's seed and path, to be kept as fixtures.
 *
 *   node dist/scripts/fuzz-reread.js [--runs 3000] [--seed N] [--bound-ms 2000]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import fc from "fast-check";
import { InputError, SourceError } from "../src/core/errors.js";
import { nullLogger } from "../src/core/log.js";
import { DEFAULT_FILTERS } from "../src/extract/filters.js";
import { Extractor } from "../src/extract/pool.js";
import { DEFAULT_LIMITS } from "../src/extract/tree.js";
import { DEFAULT_HTTP } from "../src/warc/http.js";
import type { Page } from "../src/warc/page.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { type RecordPlace, rereadPage } from "../src/warc/reread.js";
import { localSource } from "../src/warc/source.js";
import { flag } from "./split-crawl.js";

const SAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "data", "crawl-sample.warc.gz");

async function pagesOf(file: string): Promise<Page[]> {
  const out: Page[] = [];
  for await (const p of readPages(localSource(file), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) out.push(p);
  return out;
}

type Mutation =
  | { kind: "none" }
  | { kind: "flip"; at: number; bit: number }
  | { kind: "cut"; at: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "overwrite"; at: number; bytes: number[] }
  | { kind: "shift"; offset: number; length: number }
  | { kind: "other-kind" };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: "none" } as const),
  fc.record({ kind: fc.constant("flip" as const), at: fc.double({ min: -0.05, max: 1, noNaN: true }), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant("overwrite" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 256 }) }),
  fc.record({ kind: fc.constant("shift" as const), offset: fc.integer({ min: -300, max: 300 }), length: fc.integer({ min: -300, max: 300 }) }),
  fc.constant({ kind: "other-kind" } as const),
);

/** The file's bytes and the page's place after the mutation. */
function mutate(bytes: Buffer, p: RecordPlace, m: Mutation): { bytes: Buffer; place: RecordPlace } {
  const pos = (f: number) => Math.max(0, Math.min(bytes.length - 1, p.offset + Math.floor(f * p.length)));
  switch (m.kind) {
    case "none":
      return { bytes, place: p };
    case "flip": {
      const b = Buffer.from(bytes);
      b[pos(m.at)]! ^= 1 << m.bit;
      return { bytes: b, place: p };
    }
    case "cut":
      return { bytes: bytes.subarray(0, pos(m.at)), place: p };
    case "insert":
      return { bytes: Buffer.concat([bytes.subarray(0, pos(m.at)), Buffer.from(m.bytes), bytes.subarray(pos(m.at))]), place: p };
    case "overwrite": {
      const b = Buffer.from(bytes);
      Buffer.from(m.bytes).copy(b, pos(m.at));
      return { bytes: b, place: p };
    }
    case "shift":
      return { bytes, place: { ...p, offset: Math.max(0, p.offset + m.offset), length: Math.max(1, p.length + m.length) } };
    case "other-kind":
      return { bytes, place: { ...p, offsetKind: p.offsetKind === "member" ? "plain" : p.offsetKind === "plain" ? "decompressed" : "member" } };
  }
}

async function main(argv: string[]): Promise<void> {
  const runs = flag(argv, "runs", 3000);
  const seed = flag(argv, "seed", Date.now() % 2 ** 31);
  const bound = flag(argv, "bound-ms", 2000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fuzz-reread-"));
  const extractor = new Extractor({ limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS, features: true }, 1);
  try {
    const gz = fs.readFileSync(SAMPLE);
    const plain = zlib.gunzipSync(gz);
    const files = [
      { name: "member", bytes: gz },
      { name: "plain", bytes: plain },
      { name: "decompressed", bytes: zlib.gzipSync(plain) },
    ];
    const corpus: Array<{ name: string; bytes: Buffer; file: string; pages: Page[] }> = [];
    for (const f of files) {
      const file = path.join(tmp, `${f.name}.warc${f.name === "plain" ? "" : ".gz"}`);
      fs.writeFileSync(file, f.bytes);
      corpus.push({ ...f, file, pages: await pagesOf(file) });
    }
    const counts = { cases: 0, pages: 0, errors: 0, unchanged: 0, slowest: 0, worker: 0 };
    const byKind = new Map<string, number>();
    const target = path.join(tmp, "case.warc");
    await fc.assert(
      fc.asyncProperty(fc.nat(corpus.length - 1), fc.nat(100_000), mutation, async (fi, pi, m) => {
        const f = corpus[fi]!;
        const page = f.pages[pi % f.pages.length]!;
        const place: RecordPlace = { warcFile: target, offset: page.offset, length: page.length, offsetKind: page.offsetKind, url: page.url };
        const { bytes, place: at } = mutate(f.bytes, place, m);
        fs.writeFileSync(target, bytes);
        counts.cases++;
        byKind.set(`${f.name}/${m.kind}`, (byKind.get(`${f.name}/${m.kind}`) ?? 0) + 1);
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`over ${bound} ms`)), bound)));
        const reread = { http: DEFAULT_HTTP, maxRecordBytes: 8 << 20, logger: nullLogger, cwd: tmp };
        // on a worker first (the main thread's read below sets the case's expectations)
        const onWorker = Promise.race([extractor.extractAt(at, reread), timeout]);
        onWorker.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
        const sameOnWorker = async (want: Page | Error) => {
          const w = await onWorker;
          const same =
            want instanceof Error
              ? "error" in w && w.error === want.message
              : "page" in w && !!w.page && w.page.url === want.url && w.page.warcFile === want.warcFile && w.page.offset === want.offset && w.page.length === want.length && w.page.recordId === want.recordId && ("ok" in w.out || "drop" in w.out);
          if (!same) throw new Error(`read on a worker, ${f.name}/${m.kind} at ${at.offset} gave ${JSON.stringify("error" in w ? w : { page: w.page?.url, out: Object.keys(w.out) })}, not ${want instanceof Error ? want.message : want.url}`);
          counts.worker++;
        };
        try {
          const got = await Promise.race([rereadPage(at, reread), timeout]);
          await sameOnWorker(got);
          counts.pages++;
          if (m.kind === "none") {
            // untouched: exactly the page the crawl read
            if (got.url !== page.url || !got.body.equals(page.body) || got.offset !== page.offset || got.length !== page.length || got.recordId !== page.recordId) throw new Error(`an untouched ${f.name} page came back different: ${page.url}`);
            counts.unchanged++;
          }
        } catch (err) {
          if (!(err instanceof InputError || err instanceof SourceError)) throw err;
          if (m.kind === "none") throw new Error(`an untouched ${f.name} page could not be read again: ${(err as Error).message}`);
          if (!(err as Error).message.includes(target)) throw new Error(`an error that does not name the file: ${(err as Error).message}`);
          await sameOnWorker(err as Error);
          counts.errors++;
        } finally {
          clearTimeout(timer);
          counts.slowest = Math.max(counts.slowest, performance.now() - started);
        }
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    console.log(`fuzz-reread: seed ${seed}: ${counts.cases} cases, no crash, none over ${bound} ms (slowest ${counts.slowest.toFixed(0)} ms): ${counts.pages} read back a page (${counts.unchanged} untouched, all identical), ${counts.errors} were clear errors naming the file; read on a worker, ${counts.worker} gave the same page or error`);
    console.log([...byKind.entries()].sort().map(([k, n]) => `${k} ${n}`).join(", "));
  } finally {
    await extractor.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
