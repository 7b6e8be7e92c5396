/*
 * Pages outside the candidate pool that a round needs whole, read again by their place
 * (warc/reread: a local read, or one HTTP Range request) and extracted as the crawl extracts
 * (rounds/ingest rereadLikeCrawl: both on a worker); the small row becomes a full one:
 * - a promoted page (a person or --auto-accept accepted its URL prefix) trains the next round
 *   as a positive;
 * - a page of the negative sample (the k lowest `sample_key` over every page, as without the
 *   pool, so a round trains against the crawl, not against the pool alone).
 */
import pLimit from "p-limit";
import type { Logger } from "../core/log.js";
import type { LangId } from "../extract/lang.js";
import type { PipelineOptions } from "../extract/pipeline.js";
import type { Extractor } from "../extract/pool.js";
import type { DocRow } from "../store/store.js";
import type { RunStores } from "../store/stores.js";
import type { OffsetKind } from "../warc/framer.js";
import type { RereadOptions } from "../warc/reread.js";
import { rereadLikeCrawl } from "./ingest.js";

export interface OutsideStats {
  /** Pages outside the pool read again and stored whole. */
  extracted: number;
  /** Read again, but the extraction drops them (too short, another language, …), by reason: they train nothing. */
  dropped: Record<string, number>;
  /** Could not be read again (the file gone or changed): they stay small rows and train nothing. */
  failed: number;
}

interface Row {
  id: number;
  url: string;
  warc_file: string;
  warc_offset: number;
  warc_length: number;
  offset_kind: OffsetKind;
  /** The cheap text's hash the row was stored with. */
  content_hash: string;
}

const PLACE = "d.id, d.url, d.warc_file, d.warc_offset, d.warc_length, d.offset_kind, d.content_hash";

/** Reads pages outside the pool again and stores them whole (see the file's comment). */
export class OutsideReader {
  constructor(
    private readonly extractor: Extractor,
    private readonly lang: LangId,
    private readonly pipeline: Omit<PipelineOptions, "onDrop">,
    private readonly reread: RereadOptions,
    private readonly logger: Logger,
    private readonly warn: (message: string) => void,
    private readonly signal?: AbortSignal,
  ) {}

  /** Every promoted page still outside the pool, part by part; a rerun goes on where this stopped. */
  async promoted(stores: RunStores): Promise<OutsideStats> {
    const out: OutsideStats = { extracted: 0, dropped: {}, failed: 0 };
    for (const p of stores.parts) {
      const rows = p.db.prepare(`SELECT ${PLACE} FROM promoted x JOIN documents d ON d.id = x.doc_id WHERE d.extracted = 0 ORDER BY d.id`).all() as Row[];
      await this.extract(stores, p, rows, "promoted page", out);
    }
    if (out.extracted + out.failed + Object.keys(out.dropped).length > 0) this.logger.log("info", "outside_promoted", { ...out });
    return out;
  }

  /** The pages `ids` that are still outside the pool (the negative sample's). */
  async pages(stores: RunStores, ids: number[]): Promise<OutsideStats> {
    const out: OutsideStats = { extracted: 0, dropped: {}, failed: 0 };
    for (const p of stores.parts) {
      const st = p.db.prepare(`SELECT ${PLACE} FROM documents d WHERE d.id = ? AND d.extracted = 0`);
      const rows = ids.filter((id) => stores.partOf(id) === p).flatMap((id) => (st.all(id) as Row[]));
      await this.extract(stores, p, rows, "sampled page", out);
    }
    return out;
  }

  /**
   * Reads and extracts `rows` on the workers, several at once (enough to keep them busy); the
   * rows are written a batch at a time, each batch in one transaction per part.
   */
  private async extract(stores: RunStores, p: RunStores["parts"][number], rows: Row[], what: string, out: OutsideStats): Promise<void> {
    const limit = pLimit(Math.max(2, 4 * this.extractor.threads));
    const done: Done[] = [];
    const flush = () => write(stores, p, done.splice(0), out);
    const settled = await Promise.allSettled(
      rows.map((r) =>
        limit(async () => {
          const d = await this.one(r, what, out);
          if (!d) return;
          done.push(d);
          if (done.length >= BATCH) flush();
        }),
      ),
    );
    // what was read is written even when a page failed (a batch whose write failed is not: a
    // rerun reads again only the pages not written)
    flush();
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async one(r: Row, what: string, out: OutsideStats): Promise<Done | undefined> {
    if (this.signal?.aborted) return undefined;
    const x = await rereadLikeCrawl({ warcFile: r.warc_file, offset: r.warc_offset, length: r.warc_length, offsetKind: r.offset_kind, url: r.url }, this.extractor, this.lang, this.pipeline, this.reread, r.id);
    if ("failed" in x) {
      out.failed++;
      this.warn(`${what} ${r.url} could not be read again: ${x.failed}`);
      this.logger.log("warn", "outside_reread_failed", { id: r.id, url: r.url, file: r.warc_file, offset: r.warc_offset, error: x.failed });
      return undefined;
    }
    if ("dropped" in x) {
      out.dropped[x.dropped] = (out.dropped[x.dropped] ?? 0) + 1;
      this.logger.log("info", "outside_dropped", { id: r.id, url: r.url, reason: x.dropped });
    }
    return { r, x };
  }
}

/** Pages read again whose rows are written together. */
const BATCH = 64;

interface Done {
  r: Row;
  x: { row: DocRow } | { dropped: string };
}

/**
 * Writes a batch of pages read again: a dropped page's row is marked (extracted = -1: not read
 * again), an extracted page's row becomes a full one, and its exact copies outside the pool
 * (same cheap text) take its new hash and stay its copies: else the next round's sample would
 * take the lowest of them as a page of its own, and extract a duplicate of this one.
 */
function write(stores: RunStores, p: RunStores["parts"][number], batch: Done[], out: OutsideStats): void {
  if (batch.length === 0) return;
  const rekey: Array<[string, string]> = [];
  p.db.transaction(() => {
    for (const { r, x } of batch) {
      if ("dropped" in x) p.markOutsideDropped(r.id);
      else if (p.fillOutside(r.id, x.row)) {
        out.extracted++;
        rekey.push([r.content_hash, x.row.contentHash]);
      }
    }
  })();
  for (const q of stores.parts) q.db.transaction(() => rekey.forEach(([from, to]) => q.rekeyOutside(from, to)))();
}
