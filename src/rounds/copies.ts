import { mergeSorted } from "../core/merge.js";
import type { RunStores } from "../store/stores.js";

/**
 * Exact copies: stored pages whose text (its sha1, `content_hash`) a page of a lower id has too
 * (mirrors, session parameters, a page under many URLs). Each part's `copies` table lists its own
 * copies and the id each copies; the first page of a text (lowest id, whichever part holds it) is
 * not a copy. A round counts a text once: copies are left out of the host and prefix statistics,
 * the negative sample, the calibration pool and promotion (they are still scored and selected;
 * cleaning removes them from the export). Recomputed at every round (one pass over each part's
 * hash index), so the table always matches the documents; the same for any number of tasks, as
 * ids and hashes are.
 */
export function markCopies(stores: RunStores): number {
  type Row = { h: string; id: number };
  const streams = stores.parts.map((p) => p.db.prepare("SELECT content_hash AS h, id FROM documents ORDER BY content_hash, id").iterate() as Iterable<Row>);
  const found: Array<[number, number]> = [];
  let prev: Row | undefined;
  // sha1 hex: ASCII, so JavaScript's order is SQLite's
  for (const r of mergeSorted(streams, (a, b) => a.h < b.h || (a.h === b.h && a.id < b.id))) {
    if (prev && prev.h === r.h) found.push([r.id, prev.id]);
    else prev = r;
  }
  for (const p of stores.parts) {
    const ins = p.db.prepare("INSERT INTO copies (doc_id, of) VALUES (?, ?)");
    p.db.transaction(() => {
      p.db.prepare("DELETE FROM copies").run();
      for (const [id, of] of found) if (stores.partOf(id) === p) ins.run(id, of);
    })();
  }
  return found.length;
}

/** SQL condition: document `alias` is not an exact copy of an earlier one. */
export const notCopy = (alias: string) => `NOT EXISTS (SELECT 1 FROM copies c WHERE c.doc_id = ${alias}.id)`;
