import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { FEATURES_VERSION, FEATURES_VERSION_INTERLEAVED, packInterleaved, unpackFeatures } from "../classify/hashes.js";
import type { TextDoc } from "../classify/seeds.js";
import { InputError, UsageError } from "../core/errors.js";
import { TOKENIZERS, type TokenizerName } from "../core/tokens.js";
import { mixId } from "../core/hash.js";

/**
 * The run's work store: one SQLite database (WAL). Documents are written once, at
 * extraction; everything a round derives (scores, selections, domain statistics, annotations,
 * promotions) lives beside them keyed by round. A WARC file's documents and its "done" mark
 * commit in one transaction, so a killed process loses or duplicates nothing. Documents carry
 * `doc_key` (WARC file @ offset), stable across workers, so worker stores can be merged.
 * Schema in ARCHITECTURE.md.
 */
export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  name TEXT PRIMARY KEY, status TEXT NOT NULL, pages INTEGER NOT NULL, kept INTEGER NOT NULL,
  url_dups INTEGER NOT NULL, stats TEXT NOT NULL, finished_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY, doc_key TEXT NOT NULL UNIQUE, url TEXT NOT NULL, url_norm TEXT NOT NULL UNIQUE,
  host TEXT NOT NULL, domain TEXT NOT NULL, path TEXT NOT NULL, warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL,
  warc_length INTEGER NOT NULL, offset_kind TEXT NOT NULL, fetch_date TEXT NOT NULL, lang TEXT NOT NULL,
  lang_conf REAL NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL, chars INTEGER NOT NULL, content_hash TEXT NOT NULL,
  tokens INTEGER, record_id TEXT, sample_key INTEGER, extracted INTEGER NOT NULL DEFAULT 1, first_pass REAL, signals INTEGER);
CREATE INDEX IF NOT EXISTS documents_host ON documents(host);
CREATE TABLE IF NOT EXISTS features (doc_id INTEGER PRIMARY KEY, hashes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS drops (file TEXT NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (file, stage, reason)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rounds (
  round INTEGER PRIMARY KEY, step TEXT NOT NULL, model TEXT, cutoff REAL, cutoff_rule TEXT,
  selected INTEGER, selected_tokens INTEGER, summary TEXT, started_at TEXT NOT NULL, finished_at TEXT);
CREATE TABLE IF NOT EXISTS scores (round INTEGER NOT NULL, doc_id INTEGER NOT NULL, score REAL NOT NULL,
  PRIMARY KEY (round, doc_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS scores_rank ON scores(round, score DESC, doc_id);
CREATE TABLE IF NOT EXISTS selections (round INTEGER NOT NULL, doc_id INTEGER NOT NULL, PRIMARY KEY (round, doc_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS selections_doc ON selections(doc_id, round);
CREATE TABLE IF NOT EXISTS domain_stats (round INTEGER NOT NULL, host TEXT NOT NULL, pages INTEGER NOT NULL,
  selected INTEGER NOT NULL, share REAL NOT NULL, math_related INTEGER NOT NULL, PRIMARY KEY (round, host)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS prefix_stats (round INTEGER NOT NULL, prefix TEXT NOT NULL, host TEXT NOT NULL, depth INTEGER NOT NULL,
  pages INTEGER NOT NULL, selected INTEGER NOT NULL, share REAL NOT NULL, PRIMARY KEY (round, prefix)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS annotations (prefix TEXT PRIMARY KEY, decision TEXT NOT NULL, who TEXT NOT NULL, at TEXT NOT NULL,
  round INTEGER, note TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS promoted (doc_id INTEGER PRIMARY KEY, round INTEGER NOT NULL, prefix TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS copies (doc_id INTEGER PRIMARY KEY, of INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash, id);
CREATE TABLE IF NOT EXISTS minhash_bands (round INTEGER NOT NULL, band INTEGER NOT NULL, key INTEGER NOT NULL, doc_id INTEGER NOT NULL,
  PRIMARY KEY (round, band, key, doc_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seeds (n INTEGER PRIMARY KEY, id TEXT NOT NULL, url TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clean_keys (round INTEGER NOT NULL, doc_id INTEGER NOT NULL, score REAL NOT NULL, exact TEXT NOT NULL,
  benchmark TEXT, item TEXT, field TEXT, span TEXT, PRIMARY KEY (round, doc_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clean_keys_exact ON clean_keys(round, exact, doc_id);
CREATE TABLE IF NOT EXISTS clean (round INTEGER NOT NULL, doc_id INTEGER NOT NULL, status TEXT NOT NULL, dup_of INTEGER,
  cluster INTEGER, benchmark TEXT, item TEXT, field TEXT, span TEXT, PRIMARY KEY (round, doc_id)) WITHOUT ROWID;
`;

export interface DocRow {
  docKey: string;
  /** The page's WARC-Record-ID as written (the export's id); empty or absent if the record had none. */
  recordId?: string;
  url: string;
  urlNorm: string;
  host: string;
  domain: string;
  path: string;
  warcFile: string;
  warcOffset: number;
  warcLength: number;
  offsetKind: string;
  fetchDate: string;
  lang: string;
  langConf: number;
  title: string;
  text: string;
  contentHash: string;
  /** Classifier feature hashes of `text` (classify/linear `featureHashes`). */
  features?: Uint32Array;
  /**
   * False: a page the candidate pool left outside ([speed]): a small row (place, URL, host,
   * first-pass score) whose text, title and language are empty; its `contentHash` is its cheap
   * text's. It is extracted when needed (rounds/outside.ts), which makes it a full row (column
   * `extracted`: 1 full, 0 outside, -1 read again and dropped by the extraction).
   */
  extracted?: boolean;
  /** The first pass's score and math signals (extract/firstpass), where the gate was on. */
  firstPass?: number;
  signals?: number;
  /**
   * The document's id, given by the run's plan (store/ids `docId`: the file's number in the plan
   * and the document's place in that file), so that it is the same whichever task stores it;
   * absent in runs begun before plans, whose ids are SQLite's.
   */
  id?: number;
}

export interface RoundRow {
  round: number;
  step: string;
  model: string | null;
  cutoff: number | null;
  cutoff_rule: string | null;
  selected: number | null;
  selected_tokens: number | null;
  summary: string | null;
  /** ISO time the round finished (null while it runs). */
  finished_at: string | null;
}

export class WorkStore {
  readonly db: Database.Database;
  private readonly insertDoc: Database.Statement;
  private readonly insertFeatures: Database.Statement;
  /** Statements prepared on first use (statement()). */
  private readonly statements = new Map<string, Database.Statement>();
  /**
   * Whether stored feature hashes are of a format this mathcorpus reads (meta
   * `features_version`): a store written by another tokenisation is scored from its text instead.
   */
  readonly featuresCurrent: boolean;
  /** The store keeps features in the format before FEATURES_VERSION (converted when read and written). */
  private readonly featuresInterleaved: boolean;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
    const v = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    if (!v) this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    else if (Number(v.value) !== SCHEMA_VERSION) throw new InputError(`${file}: work store schema ${v.value}, this mathcorpus reads ${SCHEMA_VERSION}`);
    const fv = this.db.prepare("SELECT value FROM meta WHERE key = 'features_version'").get() as { value: string } | undefined;
    if (!fv) this.db.prepare("INSERT INTO meta (key, value) VALUES ('features_version', ?)").run(FEATURES_VERSION);
    this.featuresInterleaved = fv?.value === FEATURES_VERSION_INTERLEAVED;
    this.featuresCurrent = !fv || fv.value === FEATURES_VERSION || this.featuresInterleaved;
    // stores from before record_id was kept get the column (their rows keep NULL: doc_key is their export id)
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('documents')").pluck().all() as string[];
    if (!columns.includes("record_id")) this.db.exec("ALTER TABLE documents ADD COLUMN record_id TEXT");
    // and the negative sample's order (NULL until sampleKeys fills it)
    if (!columns.includes("sample_key")) this.db.exec("ALTER TABLE documents ADD COLUMN sample_key INTEGER");
    this.db.exec("CREATE INDEX IF NOT EXISTS documents_sample ON documents(sample_key, id)");
    // and the candidate pool's marks: older rows are all extracted ([speed])
    if (!columns.includes("extracted")) this.db.exec("ALTER TABLE documents ADD COLUMN extracted INTEGER NOT NULL DEFAULT 1");
    if (!columns.includes("first_pass")) this.db.exec("ALTER TABLE documents ADD COLUMN first_pass REAL");
    if (!columns.includes("signals")) this.db.exec("ALTER TABLE documents ADD COLUMN signals INTEGER");
    this.insertFeatures = this.db.prepare("INSERT OR REPLACE INTO features (doc_id, hashes) VALUES (?, ?)");
    this.insertDoc = this.db.prepare(
      `INSERT OR IGNORE INTO documents (id, doc_key, url, url_norm, host, domain, path, warc_file, warc_offset, warc_length, offset_kind,
        fetch_date, lang, lang_conf, title, text, chars, content_hash, record_id, extracted, first_pass, signals)
       VALUES (@id, @docKey, @url, @urlNorm, @host, @domain, @path, @warcFile, @warcOffset, @warcLength, @offsetKind,
        @fetchDate, @lang, @langConf, @title, @text, @chars, @contentHash, @recordId, @extracted, @firstPass, @signals)`,
    );
  }

  /** The work store of an existing run; a clear error if the run has none yet. */
  static openRun(runDir: string): WorkStore {
    const file = path.join(runDir, "work.sqlite");
    if (!fs.existsSync(file)) throw new InputError(`no work store at ${file}: run \`mathcorpus round --run ${runDir}\` first`);
    return new WorkStore(file);
  }

  close(): void {
    this.db.close();
  }

  /** A value of table `meta`, if set. */
  meta(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(key) as string | undefined) ?? undefined;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  /** Makes everything committed durable in the database file itself (WAL checkpointed, fsynced). */
  checkpoint(): void {
    this.db.pragma("wal_checkpoint(FULL)");
  }

  /** Round `round`'s cleaning finished (meta `cleaned:N`, written with its last marks). */
  isCleaned(round: number): boolean {
    return this.db.prepare("SELECT 1 FROM meta WHERE key = ?").get(`cleaned:${round}`) !== undefined;
  }

  /** Marks round `round`'s cleaning finished (`summary`: its JSON) or, with null, not finished. */
  setCleaned(round: number, summary: string | null): void {
    if (summary === null) this.db.prepare("DELETE FROM meta WHERE key = ?").run(`cleaned:${round}`);
    else this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").run(`cleaned:${round}`, summary);
  }

  /** The tokenizer the run counts with (meta `tokenizer`; stores from before it was recorded counted cl100k). */
  tokenizer(): TokenizerName {
    return this.recordedTokenizer() ?? "cl100k";
  }

  /** meta `tokenizer`, if recorded (an unknown name is an error). */
  private recordedTokenizer(): TokenizerName | undefined {
    const t = this.db.prepare("SELECT value FROM meta WHERE key = 'tokenizer'").get() as { value: string } | undefined;
    if (t && !(t.value in TOKENIZERS)) throw new InputError(`${this.file}: unknown tokenizer ${t.value} recorded`);
    return t?.value as TokenizerName | undefined;
  }

  /**
   * The run's tokenizer: the one asked for, recorded on first use; asking a run for another one
   * later is a usage error, since the token counts cached in `documents` are of the first.
   */
  useTokenizer(asked: TokenizerName | undefined): TokenizerName {
    const recorded = this.recordedTokenizer();
    const counted = this.db.prepare("SELECT 1 FROM documents WHERE tokens IS NOT NULL LIMIT 1").get() !== undefined;
    const current = recorded ?? (counted ? "cl100k" : undefined);
    if (current && asked && asked !== current) throw new UsageError(`this run counts tokens with ${current}; --tokenizer ${asked} needs a new run`);
    const name = current ?? asked ?? "cl100k";
    if (!recorded) this.db.prepare("INSERT INTO meta (key, value) VALUES ('tokenizer', ?)").run(name);
    return name;
  }

  /** The key of the extracted seed corpus held in `seeds` (see rounds/seeds.ts), if any. */
  seedsKey(): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = 'seeds_key'").pluck().get() as string | undefined) ?? undefined;
  }

  /** The extracted seed documents, in the order they were read. */
  seeds(): TextDoc[] {
    return this.db.prepare("SELECT id, url, text FROM seeds ORDER BY n").all() as TextDoc[];
  }

  /** Replaces the extracted seeds and their key, in one transaction. */
  replaceSeeds(key: string, docs: TextDoc[]): void {
    const insert = this.db.prepare("INSERT INTO seeds (n, id, url, text) VALUES (?, ?, ?, ?)");
    this.db.transaction(() => {
      this.db.exec("DELETE FROM seeds");
      docs.forEach((d, i) => insert.run(i, d.id, d.url, d.text));
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('seeds_key', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key);
    })();
  }

  /** The names of the files done. */
  doneFiles(): string[] {
    return this.db.prepare("SELECT name FROM files WHERE status = 'done'").pluck().all() as string[];
  }

  /** Renames a done file (its row and its drop counts), unless `to` is recorded already. */
  renameFile(from: string, to: string): void {
    this.db.transaction(() => {
      if (this.db.prepare("SELECT 1 FROM files WHERE name = ?").get(to) !== undefined) return;
      this.db.prepare("UPDATE files SET name = ? WHERE name = ?").run(to, from);
      this.db.prepare("UPDATE drops SET file = ? WHERE file = ?").run(to, from);
    })();
  }

  isFileDone(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM files WHERE name = ? AND status = 'done'").get(name) !== undefined;
  }

  /**
   * Makes a page outside the candidate pool a full row, extracted as the crawl extracts (`d`,
   * rounds/outside.ts): text, title, language, hash and features. False if it is gone or full.
   */
  fillOutside(id: number, d: DocRow): boolean {
    const r = this.statement("UPDATE documents SET lang = ?, lang_conf = ?, title = ?, text = ?, chars = ?, content_hash = ?, extracted = 1 WHERE id = ? AND extracted = 0").run(d.lang, d.langConf, d.title, d.text, d.text.length, d.contentHash, id);
    if (r.changes !== 1) return false;
    if (d.features) this.writeFeatures(id, d.features);
    return true;
  }

  /** Pages outside the pool whose hash is `from` get `to` (the hash of their copy's extracted text). */
  rekeyOutside(from: string, to: string): void {
    this.statement("UPDATE documents SET content_hash = ? WHERE content_hash = ? AND extracted = 0").run(to, from);
  }

  /** A page outside the pool that was read again and dropped by the extraction: not read again (extracted = -1). */
  markOutsideDropped(id: number): void {
    this.statement("UPDATE documents SET extracted = -1 WHERE id = ? AND extracted = 0").run(id);
  }

  /** A statement prepared once (on first use: a store opened on an older schema may lack its columns until it is migrated). */
  private statement(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /** Opens the transaction that a file's documents and its done mark share. */
  beginFile(): void {
    this.db.exec("BEGIN IMMEDIATE");
  }

  /** Inserts a document; false if its normalised URL (or key) is already stored. */
  addDoc(d: DocRow): boolean {
    const { features, ...row } = d;
    const r = this.insertDoc.run({
      ...row,
      id: d.id ?? null,
      recordId: d.recordId || null,
      chars: d.text.length,
      extracted: d.extracted === false ? 0 : 1,
      firstPass: d.firstPass ?? null,
      signals: d.signals ?? null,
    });
    if (r.changes !== 1) return false;
    if (features) this.writeFeatures(r.lastInsertRowid, features);
    return true;
  }

  private writeFeatures(id: number | bigint, features: Uint32Array): void {
    if (!this.featuresCurrent) return;
    const f = this.featuresInterleaved ? unpackFeatures(features) : features;
    this.insertFeatures.run(id, Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  }

  addDrops(file: string, stage: string, counts: Partial<Record<string, number>>): void {
    const st = this.db.prepare("INSERT INTO drops (file, stage, reason, count) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = count + excluded.count");
    for (const [reason, n] of Object.entries(counts)) if (n) st.run(file, stage, reason, n);
  }

  /** Marks the file done and commits everything since beginFile. */
  commitFile(name: string, info: { pages: number; kept: number; urlDups: number; stats: unknown }): void {
    this.db
      .prepare("INSERT OR REPLACE INTO files (name, status, pages, kept, url_dups, stats, finished_at) VALUES (?, 'done', ?, ?, ?, ?, ?)")
      .run(name, info.pages, info.kept, info.urlDups, JSON.stringify(info.stats), new Date().toISOString());
    this.db.exec("COMMIT");
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec("ROLLBACK");
  }

  docCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM documents").get() as { n: number }).n;
  }

  /** Documents in id order, in batches (flat memory). */
  *iterDocs<T>(columns: string, batch = 1000): Generator<T[]> {
    yield* this.pages<T & { id: number }>(`SELECT id, ${columns} FROM documents WHERE id > ? ORDER BY id LIMIT ?`, batch);
  }

  /**
   * Every document's stored feature hashes, in id order, batch by batch; the text instead where
   * a document has none of this mathcorpus's format (a store written before, or by another version).
   */
  *iterFeatures(batch = 2000): Generator<Array<{ id: number; features: Uint32Array | null; text: string | null }>> {
    const hashes = this.featuresCurrent ? "f.hashes" : "NULL";
    // pages outside the candidate pool are not scored: no round selects them
    const sql = `SELECT d.id, ${hashes} AS hashes, CASE WHEN ${hashes} IS NULL THEN d.text END AS text
       FROM documents d LEFT JOIN features f ON f.doc_id = d.id WHERE d.id > ? AND d.extracted = 1 ORDER BY d.id LIMIT ?`;
    for (const rows of this.pages<{ id: number; hashes: Buffer | null; text: string | null }>(sql, batch)) {
      yield rows.map((r) => {
        let features = r.hashes ? uint32s(r.hashes) : null;
        if (features && this.featuresInterleaved) features = packInterleaved(features);
        return { id: r.id, features, text: r.text };
      });
    }
  }

  /** Keyset pagination by document id: `sql` takes (last id, batch size) and orders by id. */
  private *pages<R extends { id: number }>(sql: string, batch: number): Generator<R[]> {
    const st = this.db.prepare(sql);
    let last = 0;
    for (;;) {
      const rows = st.all(last, batch) as R[];
      if (rows.length === 0) return;
      last = rows[rows.length - 1]!.id;
      yield rows;
    }
  }

  round(n: number): RoundRow | undefined {
    return this.db.prepare("SELECT * FROM rounds WHERE round = ?").get(n) as RoundRow | undefined;
  }

  /** The last round that finished, or undefined. */
  lastDoneRound(): number | undefined {
    return (this.db.prepare("SELECT max(round) AS r FROM rounds WHERE step = 'done'").get() as { r: number | null }).r ?? undefined;
  }

  /**
   * The round a command reads: `requested` if that round has finished, else the last finished
   * one; a clear InputError (naming `run` and what `purpose` needs) when there is none.
   */
  finishedRound(run: string, requested: number | undefined, purpose: string): number {
    const last = this.lastDoneRound();
    if (requested === undefined) {
      if (last === undefined) throw new InputError(`${run}: no finished round ${purpose}`);
      return last;
    }
    const row = this.round(requested);
    if (row?.step !== "done") {
      const state = row ? `has not finished (it stopped before step ${row.step})` : "has not run";
      throw new InputError(`${run}: round ${requested} ${state}; ${last === undefined ? "no round has finished yet" : `the last finished round is ${last}`}`);
    }
    return requested;
  }

  lastRound(): RoundRow | undefined {
    return this.db.prepare("SELECT * FROM rounds ORDER BY round DESC LIMIT 1").get() as RoundRow | undefined;
  }

  setRound(n: number, fields: Partial<Omit<RoundRow, "round">>): void {
    if (!this.round(n)) this.db.prepare("INSERT INTO rounds (round, step, started_at) VALUES (?, 'ingest', ?)").run(n, new Date().toISOString());
    const entries = Object.entries(fields);
    if (entries.length === 0) return;
    this.db.prepare(`UPDATE rounds SET ${entries.map(([k]) => `${k} = @${k}`).join(", ")} WHERE round = @round`).run({ ...fields, round: n });
  }

  putScores(round: number, rows: Array<[number, number]>): void {
    const st = this.db.prepare("INSERT OR REPLACE INTO scores (round, doc_id, score) VALUES (?, ?, ?)");
    this.db.transaction(() => {
      for (const [id, s] of rows) st.run(round, id, s);
    })();
  }

  /**
   * Fills `sample_key` (core/hash mixId of the id and the run's seed: the negative sample's order,
   * rounds/negatives.ts) where it is missing, or everywhere if the keys were made with another
   * seed (meta `sample_seed`). A crawl task fills its own at its end; a store from before the
   * column, or a rerun with another --seed, is filled when the sample is drawn. Returns the pages filled.
   */
  sampleKeys(seed: number): number {
    const same = this.meta("sample_seed") === String(seed);
    if (same && this.db.prepare("SELECT 1 FROM documents WHERE sample_key IS NULL LIMIT 1").get() === undefined) return 0;
    this.db.function("mc_sample_key", { deterministic: true }, (id: unknown, s: unknown) => mixId(Number(id), Number(s)));
    return this.db.transaction(() => {
      const n = this.db.prepare(`UPDATE documents SET sample_key = mc_sample_key(id, ?)${same ? " WHERE sample_key IS NULL" : ""}`).run(seed).changes;
      this.setMeta("sample_seed", String(seed));
      return n;
    })();
  }

  clearRound(round: number, tables: string[]): void {
    for (const t of tables) this.db.prepare(`DELETE FROM ${t} WHERE round = ?`).run(round);
  }
}

/** A BLOB as 32-bit words (copied when the Buffer is not 4-byte aligned). */
function uint32s(b: Buffer): Uint32Array {
  if (b.byteOffset % 4 === 0) return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
  return new Uint32Array(new Uint8Array(b).buffer, 0, b.byteLength >> 2);
}
