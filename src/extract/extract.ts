import crypto from "node:crypto";
import { errorMessage } from "../core/errors.js";
import { featureHashes } from "../classify/hashes.js";
import { LinearModel, type SharedLinearModel } from "../classify/linear.js";
import { firstPass, isCandidate } from "./firstpass.js";
import { decodeBody } from "./charset.js";
import { mainText } from "./content.js";
import { type FilterOptions, checkText } from "./filters.js";
import type { ExtractDrop } from "./reasons.js";
import { lidLine } from "./lang.js";
import { DEFAULT_LIMITS, type TreeLimits, buildTree } from "./tree.js";

export interface HtmlText {
  text: string;
  title: string;
  /** The HTML was longer than the parse cap and was cut. */
  truncated: boolean;
}

/**
 * HTML (already decoded to a string) → main text with formulas as LaTeX. `bytes`: the string
 * holds UTF-8 bytes one per character (charset.ts decodeBody with `raw`).
 */
export function extractHtml(html: string, limits: TreeLimits = DEFAULT_LIMITS, bytes = false): HtmlText {
  const { root, title, truncated } = buildTree(html, limits, bytes);
  return { text: mainText(root), title, truncated };
}

/** A page to extract: raw bytes with their HTTP Content-Type, or HTML already decoded. */
export interface ExtractInput {
  body: Uint8Array | string;
  contentType?: string | undefined;
}

export interface Extracted {
  text: string;
  title: string;
  charset: string;
  truncated: boolean;
  htmlBytes: number;
  /** The classifier's feature hashes of `text` (classify/linear), when asked for. */
  features?: Uint32Array;
  /** `lidLine(text)`: what language identification reads. */
  lidLine: string;
  /** The first pass's score and math signals, when the page went through the gate. */
  firstPass?: FirstPassMark;
}

/** What the first pass found on a page ([speed]'s candidate pool, extract/firstpass). */
export interface FirstPassMark {
  score: number;
  signals: number;
}

/** A page the first pass left outside the candidate pool: not extracted, only marked. */
export interface Outside extends FirstPassMark {
  /** sha1 (hex) of the cheap text: exact copies among pages outside the pool. */
  hash: string;
  charset: string;
}

/** The candidate pool's gate: the first-pass model (shared tables) and its bar. */
export interface FirstPassGate {
  model: SharedLinearModel;
  bar: number;
  /** Names the model (its file's sha256): a worker reads the tables once per model. */
  key: string;
  /** Characters of cheap text the model reads (the model was trained on as many). */
  maxText: number;
}

export type ExtractOutcome = { ok: Extracted } | { outside: Outside } | { drop: ExtractDrop; message?: string };

export interface ExtractOptions {
  limits: TreeLimits;
  filters: FilterOptions;
  /** Also compute the classifier's feature hashes (the work store keeps them for every round's scoring). */
  features?: boolean;
  /** Longest one page may take on a worker (ms) before it is dropped as extract_timeout (pool.ts). */
  pageTimeoutMs?: number;
  /** The candidate pool's gate: only pages that clear it are extracted; the others come back `outside`. */
  firstPass?: FirstPassGate;
}

/** The gate's model on this thread, made once per model (every task brings a fresh clone of the options). */
let gateModel: { key: string; model: LinearModel } | undefined;
function modelOf(g: FirstPassGate): LinearModel {
  if (gateModel?.key !== g.key) gateModel = { key: g.key, model: LinearModel.fromShared(g.model) };
  return gateModel.model;
}

/** Decode, parse, select, render and filter one page. Never throws: failures are drops. */
export function extractPage(input: ExtractInput, opts: ExtractOptions): ExtractOutcome {
  try {
    let mark: FirstPassMark | undefined;
    if (opts.firstPass) {
      const body = typeof input.body === "string" ? Buffer.from(input.body) : input.body;
      const f = firstPass(body, input.contentType, opts.limits.maxChars, opts.firstPass.maxText);
      const score = modelOf(opts.firstPass).scoreText(f.text);
      if (!isCandidate(score, f.signals, opts.firstPass.bar)) return { outside: { score, signals: f.signals, hash: crypto.createHash("sha1").update(f.text).digest("hex"), charset: f.charset } };
      mark = { score, signals: f.signals };
    }
    let html: string;
    let bytes = false;
    let charset = "utf-8";
    let htmlBytes: number;
    if (typeof input.body === "string") {
      html = input.body;
      htmlBytes = Buffer.byteLength(html);
    } else {
      const buf = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
      htmlBytes = buf.length;
      const d = decodeBody(buf, input.contentType, undefined, true);
      if ("error" in d) return { drop: "undecodable", message: d.error };
      html = d.text;
      bytes = d.bytes === true;
      charset = d.charset;
    }
    const r = extractHtml(html, opts.limits, bytes);
    const bad = checkText(r.text, htmlBytes, opts.filters);
    if (bad) return { drop: bad };
    return { ok: { text: r.text, title: r.title, charset, truncated: r.truncated, htmlBytes, lidLine: lidLine(r.text), ...(opts.features ? { features: featureHashes(r.text) } : {}), ...(mark ? { firstPass: mark } : {}) } };
  } catch (err) {
    return { drop: "extract_error", message: errorMessage(err) };
  }
}
