import crypto from "node:crypto";
import path from "node:path";
import { packageRoot } from "../../src/core/paths.js";

/** One line of the chaos table. */
export interface Row {
  category: string;
  tried: number;
  /** An exception that escaped, an exit 1, or a stack trace on stderr. */
  crashed: number;
  /** No answer within the bound. */
  hung: number;
  /** Pages (or a result) missing with exit 0 and nothing counted or said: silent loss. */
  lost: number;
  /** Of the `compared` inputs with a known right answer, those that gave it exactly. */
  identical: number;
  compared: number;
  /** Short notes: what went wrong, per input (the first few). */
  notes: string[];
}

export function row(category: string): Row {
  return { category, tried: 0, crashed: 0, hung: 0, lost: 0, identical: 0, compared: 0, notes: [] };
}

/** Notes what went wrong; crashes, hangs and silent losses (`serious`) are always kept. */
export function note(r: Row, text: string, serious = false): void {
  if (serious || r.notes.length < 8) r.notes.push(text);
}

/** A small seeded generator (mulberry32): the same seed gives the same campaign. */
export function rng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0 || 1;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)]! };
}

export const ROOT = packageRoot();
export const CLI = path.join(ROOT, "dist", "src", "cli.js");
export const CC_EXCERPT = path.join(ROOT, "test", "fixtures", "warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz");
export const SAMPLE = path.join(ROOT, "data", "crawl-sample.warc.gz");
export const STACK = /\n\s+at .*:\d+:\d+/;

export function sha1(b: Buffer | string): string {
  return crypto.createHash("sha1").update(b).digest("hex");
}

/** Resolves with `fn`'s value, or with "hung" after `ms`. */
export async function within<T>(ms: number, fn: () => Promise<T>): Promise<T | "hung"> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), ms)));
  try {
    return await Promise.race([fn(), limit]);
  } finally {
    clearTimeout(timer);
  }
}
