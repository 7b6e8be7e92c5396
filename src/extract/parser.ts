import { Parser, type ParserOptions, type QuoteType } from "htmlparser2";
import { FastTokenizer } from "./tokenizer.js";

type Handler = ConstructorParameters<typeof Parser>[0];

/** Private fields of htmlparser2 12.0.0's Parser that the overrides below read and write. */
interface Internals {
  attribname: string;
  attribvalue: string;
  endIndex: number;
}

/**
 * htmlparser2's Parser, with FastTokenizer, that keeps only the attributes its caller reads
 * (names in `keep`), or all of them while `keepAll` is set. The rest are not copied, joined or
 * stored in the attribute object: on Common-Crawl-style pages (1,500 attributes each) storing
 * them was 10 % of tree building. Tag and attribute names are lower-cased as before, and every
 * other behaviour is htmlparser2's own.
 */
export class LeanParser extends Parser {
  /** Every attribute is kept while this is true (set between callbacks, e.g. inside MathML). */
  keepAll = false;
  /** The attribute being read is dropped. */
  private dropping = false;

  constructor(
    cbs: Handler,
    options: ParserOptions,
    private readonly keep: ReadonlySet<string>,
  ) {
    super(cbs, { ...options, Tokenizer: FastTokenizer });
  }

  override onattribname(start: number, endIndex: number): void {
    super.onattribname(start, endIndex);
    this.dropping = !this.keepAll && !this.keep.has((this as unknown as Internals).attribname);
  }

  override onattribdata(start: number, endIndex: number): void {
    if (!this.dropping) super.onattribdata(start, endIndex);
  }

  override onattribentity(cp: number): void {
    if (!this.dropping) super.onattribentity(cp);
  }

  override onattribend(quote: QuoteType, endIndex: number): void {
    if (!this.dropping) return super.onattribend(quote, endIndex);
    const self = this as unknown as Internals;
    self.endIndex = endIndex;
    self.attribvalue = "";
    this.dropping = false;
  }
}
