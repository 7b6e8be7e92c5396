import fs from "node:fs";
import path from "node:path";
import { sha256File } from "../classify/train.js";
import type { RunStores } from "../store/stores.js";
import { TOKENIZERS } from "../core/tokens.js";
import { type ExportOptions, SHARD_SCHEMA_VERSION, prepareOut, writeAtomic, writeShards } from "./shards.js";
import type { Manifest } from "./verify.js";

/** Exports a cleaned round into shards plus manifest.json (written last). */
export function exportRound(stores: RunStores, round: number, runDir: string, out: string, o: ExportOptions & { force: boolean }, onShard?: (i: number, n: number) => void): Manifest {
  const store = stores.coord;
  prepareOut(out, runDir, o.force);
  const { shards, docs, tokens } = writeShards(stores, round, out, o, onShard);
  const config = fs.existsSync(path.join(runDir, "config.json")) ? JSON.parse(fs.readFileSync(path.join(runDir, "config.json"), "utf8")) : null;
  const rounds = store.db.prepare("SELECT round, model, cutoff, cutoff_rule, selected FROM rounds WHERE step = 'done' AND round <= ? ORDER BY round").all(round) as Array<{ round: number; model: string | null }>;
  const models = rounds.map((r) => {
    const model = r.model ? path.join(runDir, r.model) : "";
    const sidecar = model.replace(/\.bin$/, ".json");
    return { ...r, sidecar_sha256: fs.existsSync(sidecar) ? sha256File(sidecar) : null };
  });
  const cleanStats = Object.fromEntries((store.db.prepare("SELECT status, count(*) AS n FROM clean WHERE round = ? GROUP BY status").all(round) as Array<{ status: string; n: number }>).map((r) => [r.status, r.n]));
  const contamination = Object.fromEntries((store.db.prepare("SELECT benchmark, count(*) AS n FROM clean WHERE round = ? AND status = 'contaminated' GROUP BY benchmark").all(round) as Array<{ benchmark: string; n: number }>).map((r) => [r.benchmark, r.n]));
  const urlDups = stores.sum("SELECT coalesce(sum(count), 0) FROM drops WHERE reason = 'url_dup'");
  const manifest: Manifest = {
    schema_version: SHARD_SCHEMA_VERSION,
    tokenizer: TOKENIZERS[store.tokenizer()],
    created: new Date().toISOString(),
    round,
    documents: docs,
    tokens,
    permutation: `documents sorted by sha256("${o.seed}:" + id)`,
    shards,
    models,
    dedup: { url_dup: urlDups, exact_dup: cleanStats.exact_dup ?? 0, near_dup: cleanStats.near_dup ?? 0 },
    decontamination: { contaminated: cleanStats.contaminated ?? 0, by_benchmark: contamination },
    config,
  };
  writeAtomic(path.join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}
