/**
 * Extraction stage by stage on one thread: ms per page for decoding, tree building, content
 * selection, filters, the language-id line and feature hashes, on the first pages of a WARC
 * (read into memory first; the second of two passes is reported). Then tree building in layers:
 * the tokenizer alone (no-op callbacks), tokenizer + htmlparser2's Parser (no-op handlers), and
 * the whole tree, so each layer's cost is the difference to the one before.
 *
 *   node dist/scripts/prof-stages.js FILE.warc.gz [PAGES]
 */
import { nullLogger } from "../src/core/log.js";
import { decodeBody } from "../src/extract/charset.js";
import { mainText } from "../src/extract/content.js";
import { lidLine } from "../src/extract/lang.js";
import { featureHashes } from "../src/classify/hashes.js";
import { LeanParser } from "../src/extract/parser.js";
import { FastTokenizer } from "../src/extract/tokenizer.js";
import { READ_ATTRIBUTES, buildTree } from "../src/extract/tree.js";
import { checkText, DEFAULT_FILTERS } from "../src/extract/filters.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { localSource } from "../src/warc/source.js";

const file = process.argv[2]!;
const limit = Number(process.argv[3] ?? 2000);
let t = performance.now();
const bodies: { body: Uint8Array; ct: string | undefined }[] = [];
for await (const p of readPages(localSource(file), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) {
  bodies.push({ body: p.body, ct: p.contentType });
  if (bodies.length >= limit) break;
}
const read = performance.now() - t;
let bytes = 0;
for (const b of bodies) bytes += b.body.length;
console.log(`read ${bodies.length} pages ${(bytes / 1e6).toFixed(0)} MB in ${(read / 1000).toFixed(2)} s`);
const T: Record<string, number> = {};
const time = <X>(k: string, f: () => X): X => {
  const s = performance.now();
  const x = f();
  T[k] = (T[k] ?? 0) + performance.now() - s;
  return x;
};
for (let pass = 0; pass < 2; pass++) {
  for (const k of Object.keys(T)) delete T[k];
  for (const b of bodies) {
    const buf = Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength);
    const d = time("decode", () => decodeBody(buf, b.ct, undefined, true));
    if ("error" in d) continue;
    const tr = time("tree", () => buildTree(d.text, undefined, d.bytes === true));
    const text = time("content", () => mainText(tr.root));
    const bad = time("filter", () => checkText(text, buf.length, DEFAULT_FILTERS));
    if (bad) continue;
    time("lidline", () => lidLine(text));
    time("features", () => featureHashes(text));
  }
}
const n = bodies.length;
for (const [k, v] of Object.entries(T)) console.log(`${k.padEnd(10)} ${(v / 1000).toFixed(2)} s  ${(v / n).toFixed(3)} ms/page  ${(bytes / 1e3 / v).toFixed(0)} MB/s`);

// tree building in layers (the pieces buildTree feeds: 16 KiB)
const noop = () => {};
const tokenizerCbs = {
  onattribdata: noop, onattribentity: noop, onattribend: noop, onattribname: noop, oncdata: noop, onclosetag: noop, oncomment: noop,
  ondeclaration: noop, onend: noop, onopentagend: noop, onopentagname: noop, onprocessinginstruction: noop, onselfclosingtag: noop,
  ontext: noop, ontextentity: noop,
};
const feed = (w: { write(s: string): void; end(): void }, html: string) => {
  for (let i = 0; i < html.length; i += 16_384) w.write(html.slice(i, i + 16_384));
  w.end();
};
const decoded = bodies.map((b) => decodeBody(Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength), b.ct, undefined, true)).flatMap((d) => ("error" in d ? [] : [d]));
const layers: Record<string, (d: { text: string; bytes?: boolean }) => void> = {
  tokenizer: (d) => feed(new FastTokenizer({ decodeEntities: true }, tokenizerCbs), d.text),
  "+ parser": (d) => feed(new LeanParser({ onopentag: noop, ontext: noop, onclosetag: noop }, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true }, READ_ATTRIBUTES, d.bytes === true), d.text),
  "+ tree": (d) => buildTree(d.text, undefined, d.bytes === true),
};
console.log("tree building in layers:");
for (const [k, f] of Object.entries(layers)) {
  for (const d of decoded) f(d); // warm-up
  const s = performance.now();
  for (const d of decoded) f(d);
  console.log(`${k.padEnd(10)} ${((performance.now() - s) / decoded.length).toFixed(3)} ms/page`);
}
