import { Parser, type ParserOptions, type QuoteType } from "htmlparser2";
import { FastTokenizer } from "./tokenizer.js";

type Handler = ConstructorParameters<typeof Parser>[0];

/** Private fields of htmlparser2 12.0.0's Parser that the overrides below read and write. */
interface Internals {
  attribname: string;
  attribvalue: string;
  endIndex: number;
  startIndex: number;
  cbs: { ontext?: (data: string) => void };
  getSlice(start: number, end: number): string;
}

const HIGH = /[\x80-\xff]/;
/** A piece of a string of UTF-8 bytes (whole characters), decoded. */
const utf8 = (s: string): string => (HIGH.test(s) ? Buffer.from(s, "latin1").toString("utf8") : s);

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

  /**
   * `bytes`: the input holds UTF-8 bytes one per character (charset.ts decodeBody with `raw`).
   * Text and attribute values are decoded before they are passed on (they are cut at markup
   * characters, which are ASCII, so each piece holds whole characters; callers feed whole
   * characters). Tag and attribute names stay as bytes: only ASCII names are looked up.
   */
  constructor(
    cbs: Handler,
    options: ParserOptions,
    private readonly keep: ReadonlySet<string>,
    private readonly bytes = false,
  ) {
    super(cbs, { ...options, Tokenizer: FastTokenizer });
  }

  override ontext(start: number, endIndex: number): void {
    if (!this.bytes) return super.ontext(start, endIndex);
    // htmlparser2 12.0.0's ontext, with the text decoded
    const self = this as unknown as Internals;
    const data = utf8(self.getSlice(start, endIndex));
    self.endIndex = endIndex - 1;
    self.cbs.ontext?.(data);
    self.startIndex = endIndex;
  }

  override onattribname(start: number, endIndex: number): void {
    super.onattribname(start, endIndex);
    this.dropping = !this.keepAll && !this.keep.has((this as unknown as Internals).attribname);
  }

  override onattribdata(start: number, endIndex: number): void {
    if (this.dropping) return;
    if (!this.bytes) return super.onattribdata(start, endIndex);
    const self = this as unknown as Internals;
    self.attribvalue += utf8(self.getSlice(start, endIndex));
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
