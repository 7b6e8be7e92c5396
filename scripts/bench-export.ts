/**
 * Export benchmark: export and read throughput (MB/s of text, docs/s) of SQLite shards against a
 * plain sequential read of the same bytes (one file holding the texts) in the same run, for two
 * page sizes. The work store is synthetic around real texts: the ../shared/data pages cycled to
 * --docs documents, all selected and kept.
 *
 *   node dist/scripts/bench-export.js [--data ../shared/data] [--docs 50000]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { countTokens } from "gpt-tokenizer/encoding/cl100k_base";
import { exportRound } from "../src/export/export.js";
import { ShardReader } from "../src/export/reader.js";
import { WorkStore } from "../src/store/store.js";
import { RunStores } from "../src/store/stores.js";

function texts(data: string): string[] {
  const out: string[] = [];
  for (const f of ["seeds/stackmathqa_shared.jsonl", "negatives/cc_text_dolma.jsonl"]) {
    const buf = fs.readFileSync(path.join(data, f));
    for (const l of (f.endsWith(".gz") ? zlib.gunzipSync(buf) : buf).toString().split("\n")) if (l.trim()) out.push((JSON.parse(l) as { text: string }).text);
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const arg = (n: string) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : undefined);
  const data = arg("--data") ?? path.resolve("..", "shared", "data");
  const n = Number(arg("--docs") ?? 50_000);
  const base = texts(data);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-export-"));
  const store = new WorkStore(path.join(dir, "work.sqlite"));
  store.beginFile();
  let bytes = 0;
  const plain = fs.openSync(path.join(dir, "plain.txt"), "w");
  for (let i = 0; i < n; i++) {
    const text = `${base[i % base.length]!} [copy ${i}]`;
    bytes += Buffer.byteLength(text);
    fs.writeSync(plain, text + "\n");
    store.addDoc({ docKey: `d${i}`, url: `https://e.example/${i}`, urlNorm: `https://e.example/${i}`, host: "e.example", domain: "e.example", path: "/", warcFile: "w", warcOffset: i, warcLength: 1, offsetKind: "plain", fetchDate: "", lang: "en", langConf: 1, title: "", text, contentHash: "" });
  }
  fs.closeSync(plain);
  store.commitFile("w", { pages: n, kept: n, urlDups: 0, stats: {} });
  store.setRound(1, { step: "done" });
  store.db.exec("INSERT INTO scores (round, doc_id, score) SELECT 1, id, 0.9 FROM documents");
  store.db.exec("INSERT INTO selections (round, doc_id) SELECT 1, id FROM documents");
  store.db.exec("INSERT INTO clean (round, doc_id, status) SELECT 1, id, 'kept' FROM documents");
  store.setCleaned(1, JSON.stringify({ round: 1, bench: true })); // export takes only a round whose cleaning finished
  store.db.exec("UPDATE documents SET tokens = length(text) / 4"); // token counting is not what is measured here
  const mb = bytes / 1e6;
  console.log(`${n} documents, ${mb.toFixed(0)} MB of text; node ${process.version}`);
  // the floor: reading the same bytes sequentially from one plain file
  let t = performance.now();
  let got = 0;
  for await (const c of fs.createReadStream(path.join(dir, "plain.txt"), { highWaterMark: 1 << 20 })) got += (c as Buffer).length;
  const floor = (performance.now() - t) / 1000;
  console.log(`plain sequential read: ${(got / 1e6 / floor).toFixed(0)} MB/s`);
  for (const pageSize of [4096, 65536]) {
    const out = path.join(dir, `export-${pageSize}`);
    t = performance.now();
    const m = exportRound(RunStores.from(store, dir, undefined), 1, dir, out, { shardTokens: 20_000_000, shardDocs: 0, seed: 1, pageSize, force: true, countTokens });
    const ex = (performance.now() - t) / 1000;
    t = performance.now();
    let docs = 0;
    let read = 0;
    for await (const d of new ShardReader(out)) {
      docs++;
      read += Buffer.byteLength(d.text);
    }
    const rd = (performance.now() - t) / 1000;
    console.log(
      `page size ${pageSize}: export ${(mb / ex).toFixed(1)} MB/s, ${(n / ex).toFixed(0)} docs/s (${m.shards.length} shards); ` +
        `read ${(read / 1e6 / rd).toFixed(0)} MB/s, ${(docs / rd).toFixed(0)} docs/s = ${(floor / rd).toFixed(2)}x the plain read`,
    );
  }
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

await main(process.argv.slice(2));
