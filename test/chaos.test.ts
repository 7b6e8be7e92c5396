import { describe, expect, it } from "vitest";
import { htmlMutants } from "../scripts/chaos/html.js";
import { httpModes } from "../scripts/chaos/http.js";
import { usageFuzz } from "../scripts/chaos/usage.js";
import { warcMutants } from "../scripts/chaos/warc.js";
import type { Row } from "../scripts/chaos/common.js";
import { tmpDir } from "./helpers.js";

/**
 * A fast slice of the chaos suite (`npm run chaos` runs all of it, with SIGKILL and full-disk
 * points): a few inputs of each kind, with a seed of their own, must give no crash, no hang,
 * no silent loss and, where the right answer is known, exactly it.
 */
function clean(r: Row): void {
  expect({ category: r.category, crashed: r.crashed, hung: r.hung, lost: r.lost, notes: r.crashed + r.hung + r.lost > 0 ? r.notes : [] }).toEqual({ category: r.category, crashed: 0, hung: 0, lost: 0, notes: [] });
  expect(r.identical, r.notes.join("\n")).toBe(r.compared);
}

describe("chaos, a fast slice", () => {
  it("WARC mutants: every kind in every layout", async () => {
    const r = await warcMutants(48, 11, { huge: false, tmp: tmpDir() });
    expect(r.tried).toBe(48);
    expect(r.compared).toBeGreaterThan(30);
    clean(r);
  }, 120_000);

  it("hostile HTML: every mutation through the worker pool, each page an outcome", async () => {
    const r = await htmlMutants(28, 11, 30_000);
    expect(r.tried).toBe(28);
    expect(Object.values(r.drops).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(28);
    clean(r);
  }, 240_000);

  it("every HTTP fault mode: the same pages, or a loud failure", async () => {
    const r = await httpModes();
    expect(r.tried).toBe(12);
    clean(r);
  }, 240_000);

  it("bad usage: a message and exit 2-5, never a stack trace or a raw control byte", async () => {
    const r = await usageFuzz(30, 11, tmpDir(), `${tmpDir()}/run`);
    expect(r.tried).toBe(30);
    clean(r);
  }, 300_000);
});
