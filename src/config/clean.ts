import path from "node:path";
import { UsageError } from "../core/errors.js";
import type { OptionSpecs, Resolved } from "../core/options.js";
import { packageRoot } from "../core/paths.js";
import { BenchmarkIndex, DEFAULT_FIELDS, loadBenchmarkDir, loadBenchmarks } from "../decont/index.js";

/** Benchmarks to decontaminate against (`clean`, and `run`'s clean step). */
export const benchmarkOptionSpecs = {
  benchmark: {
    type: "list",
    default: [],
    arg: "FILE,...",
    help: "more benchmarks to decontaminate against: files (JSONL, JSON, CSV with a header, Parquet, TSV question<TAB>answer; .gz or .zst but Parquet) or folders of them",
  },
  bundledBenchmarks: { type: "boolean", default: true, help: "also use the bundled benchmarks in data/benchmarks" },
  questionField: { type: "list", default: DEFAULT_FIELDS.question, arg: "NAME,...", help: "fields (JSON keys, CSV/Parquet columns; any case) holding benchmark questions" },
  answerField: { type: "list", default: DEFAULT_FIELDS.answer, arg: "NAME,...", help: "fields (JSON keys, CSV/Parquet columns; any case) holding benchmark answers" },
} as const satisfies OptionSpecs;

export type BenchmarkOptions = Resolved<typeof benchmarkOptionSpecs>;

/** The benchmark index the options name (bundled ones first), and the benchmarks' names. */
export async function benchmarkIndex(o: BenchmarkOptions, cwd: string, command: string): Promise<{ index: BenchmarkIndex; names: string[] }> {
  const fields = { question: o.questionField, answer: o.answerField };
  const index = new BenchmarkIndex();
  const names = o.bundledBenchmarks ? await loadBenchmarkDir(path.join(packageRoot(), "data", "benchmarks"), index, fields) : [];
  names.push(...(await loadBenchmarks(o.benchmark.map((b) => path.resolve(cwd, b)), index, fields)));
  if (names.length === 0) throw new UsageError(`${command}: no benchmarks (the bundled ones are off and no --benchmark given)`);
  return { index, names };
}
