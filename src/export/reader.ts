import path from "node:path";
import Database from "better-sqlite3";
import { readManifest } from "./verify.js";

/** One exported document as readers see it. */
export interface ShardDoc {
  id: string;
  text: string;
  url: string;
  domain: string;
  lang: string;
  score: number;
  round: number;
  tokens: number;
  sha256: string;
}

/** Where a reader is: the next shard index and the last row read in it. */
export interface Position {
  shard: number;
  row: number;
}

/**
 * Streams a shard set's documents. Document k of the whole set (shards in manifest order, rows in
 * rowid order) belongs to rank k mod world, so data-loader workers read disjoint parts; `position`
 * after any document resumes exactly there.
 */
export class ShardReader {
  position: Position;

  constructor(
    private readonly dir: string,
    private readonly rank = 0,
    private readonly world = 1,
    start: Position = { shard: 0, row: 0 },
  ) {
    if (!(world >= 1 && rank >= 0 && rank < world)) throw new RangeError(`rank ${rank} / world ${world}`);
    this.position = { ...start };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ShardDoc> {
    const m = readManifest(this.dir);
    let offset = 0;
    for (let i = 0; i < m.shards.length; i++) {
      const s = m.shards[i]!;
      if (i < this.position.shard) {
        offset += s.docs;
        continue;
      }
      const db = new Database(path.join(this.dir, s.file), { readonly: true, fileMustExist: true });
      try {
        const st = db.prepare("SELECT rowid AS r, * FROM documents WHERE rowid > ? AND ((? + rowid - 1) % ?) = ? ORDER BY rowid LIMIT 512");
        for (;;) {
          const rows = st.all(this.position.row, offset, this.world, this.rank) as Array<ShardDoc & { r: number }>;
          if (rows.length === 0) break;
          for (const { r, ...doc } of rows) {
            this.position = { shard: i, row: r };
            yield doc;
          }
        }
      } finally {
        db.close();
      }
      offset += s.docs;
      this.position = { shard: i + 1, row: 0 };
    }
  }
}
