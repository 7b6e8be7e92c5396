import type { DecodeEvent } from "./gzip.js";

/**
 * Cuts a decoded WARC byte stream into records: the header block, `Content-Length`
 * bytes of block, then the CRLFs that end a record. It checks what warcio's parser takes
 * on trust (a record must start with `WARC/`, its length must land on the next record),
 * resynchronises on the next record after bad bytes, and caps what it keeps of a block,
 * so a huge or broken record costs bounded memory and never stops the file.
 */
export type OffsetKind = "member" | "plain" | "decompressed";

export interface FramedRecord {
  /** The WARC header block, version line included, up to and including its blank line. */
  header: Buffer;
  version: string;
  /** Header fields with lower-cased names (the last one wins for repeated names). */
  fields: Map<string, string>;
  type: string;
  contentLength: number;
  /** The first bytes of the block (up to the cap), only for record types that are kept. */
  block: Buffer;
  /** True when the block was longer than the cap and was cut. */
  blockCut: boolean;
  offset: number;
  length: number;
  offsetKind: OffsetKind;
}

export type FrameErrorReason = "bad_record" | "truncated_record" | "length_mismatch";

export interface FrameError {
  reason: FrameErrorReason;
  offset: number;
  message: string;
}

export interface FramerOptions {
  fileName: string;
  /** Plain file: decoded offsets are file offsets. */
  plain: boolean;
  /** Which record types' blocks to keep (others are skipped without copying). */
  keepBlock: (type: string) => boolean;
  maxBlockBytes: number;
  maxHeaderBytes?: number;
}

const CR = 13;
const LF = 10;
const WARC = Buffer.from("WARC/");
const NL_WARC = Buffer.from("\nWARC/");
/**
 * A block that holds a line starting `WARC/` may be a record whose Content-Length is too large
 * and swallowed the records after it. The bytes from that line on are kept until the block's end
 * shows whether its length was right (the next record starts there: the line was content, e.g. a
 * page quoting a WARC record) or wrong (reading goes on from the line). Past this many bytes the
 * length is judged wrong at once, so memory stays bounded.
 */
export const MAX_SHADOW_BYTES = 16 << 20;
const EDGE = NL_WARC.length - 1;
/** A version line, as looked for after junk: WARC/1.0, then CRLF or LF. */
const VERSION_LINE = /^WARC\/\d{1,3}\.\d{1,3}\r?\n/;
/** What a version line cut by the end of a chunk may start with. */
const VERSION_PREFIX = /^WARC\/\d{0,3}\.?\d{0,3}\r?$/;
const VERSION_PROBE = 14;

type State = "seek" | "header" | "block" | "trailer";

interface Pending {
  decStart: number;
  memberStart: number;
  atMemberStart: boolean;
  header?: Buffer;
  version?: string;
  fields?: Map<string, string>;
  type?: string;
  contentLength?: number;
  keep?: boolean;
  remaining?: number;
  parts?: Buffer[];
  kept?: number;
  cut?: boolean;
  /** The block's last bytes seen, to find a `\nWARC/` that straddles two chunks. */
  edge?: Buffer;
  /** Decoded offset of the first line inside the block that starts `WARC/`. */
  shadowAt?: number;
  /** The bytes from `shadowAt` on, while the block's end is not yet reached. */
  shadow?: Buffer[];
  shadowBytes?: number;
  /** CR/LF bytes seen after the block. */
  ends?: number;
}

function parseHeader(header: Buffer): { version: string; fields: Map<string, string> } {
  const lines = header.toString("latin1").split(/\r?\n/);
  const version = (lines[0] ?? "").trim();
  const fields = new Map<string, string>();
  let last = "";
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    if ((line[0] === " " || line[0] === "\t") && last) {
      fields.set(last, `${fields.get(last) ?? ""} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    fields.set(last, line.slice(colon + 1).trim());
  }
  return { version, fields };
}

/**
 * End of a header block starting at `from`: after its blank line, CRLF or bare LF (ClueWeb09).
 * The bare-LF search is bounded so a body without blank lines is never scanned.
 */
export function headerEnd(buf: Buffer, from: number, maxHeader: number): number {
  const crlf = buf.indexOf("\n\r\n", from);
  const lfScope = buf.subarray(from, crlf >= 0 ? crlf + 1 : Math.min(buf.length, from + maxHeader));
  const lf = lfScope.indexOf("\n\n");
  if (lf >= 0) return from + lf + 2;
  return crlf >= 0 ? crlf + 3 : -1;
}

export class Framer {
  private state: State = "seek";
  private carry: Buffer | null = null;
  private dec = 0;
  private memberStart = 0;
  private memberDecStart = 0;
  private newMember = true;
  private crossedMember = false;
  private inGarbage = false;
  private rec: Pending | null = null;
  private out: Array<FramedRecord | FrameError> = [];
  private readonly maxHeader: number;

  constructor(private readonly opts: FramerOptions) {
    this.maxHeader = opts.maxHeaderBytes ?? 256 * 1024;
  }

  /** Between records: nothing open, nothing carried (where a range of members may stop, gzip.ts RangeStop). */
  get idle(): boolean {
    return this.state === "seek" && this.rec === null && this.carry === null && !this.crossedMember;
  }

  /** Feeds one decode event; returns the records and errors it completed. */
  push(ev: DecodeEvent): Array<FramedRecord | FrameError> {
    this.out = [];
    if (ev.kind === "data") this.onData(ev.data, ev.memberStart);
    else if (ev.kind === "member-end") this.onMemberEnd(ev.memberEnd);
    else if (!ev.intact) this.reset();
    return this.out;
  }

  /** Ends the stream: a record still open is reported as truncated. */
  finish(): Array<FramedRecord | FrameError> {
    this.out = [];
    this.end();
    this.carry = null;
    return this.out;
  }

  private end(): void {
    const r = this.rec;
    if (this.state === "block" && r?.shadow) {
      // the file ends inside a block that holds a record header: its Content-Length was too large
      this.rewind(r, `Content-Length ${r.contentLength} runs past the end of the file`, Buffer.alloc(0));
      this.end();
    } else if (this.state === "trailer") this.finalize(this.dec, undefined);
    else if (this.state === "header" || this.state === "block") this.fail("truncated_record", "the file ends inside this record");
    else if (this.carry && this.carry.length > 0 && !this.inGarbage) this.garbage(this.dec - this.carry.length);
  }

  /**
   * Fails the open record (its Content-Length ran over the record header found in its block)
   * and reads on from that header: the kept bytes, then `rest` of the current chunk.
   */
  private rewind(r: Pending, what: string, rest: Buffer, at = r.shadowAt!, kept = r.shadow!): void {
    const bytes = Buffer.concat([...kept, rest]);
    const where = this.opts.plain ? `offset ${at}` : `decompressed offset ${at}`;
    this.fail("length_mismatch", `${what}; reading on from the record at ${where}`);
    this.state = "seek";
    this.inGarbage = false;
    this.carry = null;
    this.scan(bytes, at);
  }

  private reset(): void {
    this.rec = null;
    this.carry = null;
    this.state = "seek";
    this.inGarbage = false;
    this.newMember = true;
  }

  private recordOffset(r: Pending): number {
    if (this.opts.plain) return r.decStart;
    return r.atMemberStart ? r.memberStart : r.decStart;
  }

  private fail(reason: FrameErrorReason, what: string): void {
    const r = this.rec;
    const where = r ? this.describeOffset(r) : `offset ${this.dec}`;
    this.out.push({ reason, offset: r ? this.recordOffset(r) : this.dec, message: `${this.opts.fileName}: record at ${where}: ${what}` });
    this.rec = null;
  }

  private describeOffset(r: Pending): string {
    if (this.opts.plain) return `offset ${r.decStart}`;
    return r.atMemberStart ? `offset ${r.memberStart}` : `decompressed offset ${r.decStart}`;
  }

  private garbage(at: number): void {
    if (this.inGarbage) return;
    this.inGarbage = true;
    const where = this.opts.plain ? `offset ${at}` : this.newMember ? `gzip member at offset ${this.memberStart}` : `decompressed offset ${at}`;
    this.out.push({ reason: "bad_record", offset: this.opts.plain ? at : this.memberStart, message: `${this.opts.fileName}: ${where}: bytes that do not start a WARC record; skipping to the next record` });
  }

  private onMemberEnd(memberEnd: number): void {
    if (this.state === "trailer") {
      this.finalize(this.dec, memberEnd);
      this.state = "seek";
    } else if (this.state === "seek") {
      if (this.carry && this.carry.length > 0) this.garbage(this.dec - this.carry.length);
      this.carry = null;
      this.inGarbage = false;
    } else {
      this.crossedMember = true;
    }
    this.newMember = true;
  }

  private onData(data: Buffer, memberStart: number): void {
    if (this.newMember) {
      this.memberStart = memberStart;
      this.memberDecStart = this.dec;
      this.newMember = false;
      if (this.crossedMember) this.checkCrossing(data);
    }
    const carried = this.carry ? this.carry.length : 0;
    const chunk = this.carry ? Buffer.concat([this.carry, data]) : data;
    this.carry = null;
    const base = this.dec - carried;
    this.dec += data.length;
    this.scan(chunk, base);
  }

  private scan(chunk: Buffer, base: number): void {
    let i = 0;
    while (i < chunk.length) {
      const next = this.step(chunk, i, base);
      if (next < 0) break;
      i = next;
    }
  }

  /** A record left open at a member end continues only if the next member does not start a record. */
  private checkCrossing(data: Buffer): void {
    this.crossedMember = false;
    let j = 0;
    while (j < data.length && (data[j] === CR || data[j] === LF)) j++;
    if (data.subarray(j, j + 5).equals(WARC)) {
      const declared = this.rec?.contentLength;
      this.fail("length_mismatch", declared === undefined ? "its header block is cut off by the end of its gzip member" : `Content-Length ${declared} runs past the end of its gzip member`);
      this.carry = null;
      this.state = "seek";
    }
  }

  /** Processes from `i`; returns the next index, or -1 when the rest was carried over. */
  private step(chunk: Buffer, i: number, base: number): number {
    switch (this.state) {
      case "seek":
        return this.seek(chunk, i, base);
      case "header":
        return this.header(chunk, i);
      case "block":
        return this.block(chunk, i, base);
      case "trailer":
        return this.trailer(chunk, i, base);
    }
  }

  private seek(chunk: Buffer, i: number, base: number): number {
    while (i < chunk.length && (chunk[i] === CR || chunk[i] === LF)) i++;
    if (i === chunk.length) return i;
    if (chunk.length - i < WARC.length) {
      this.carry = Buffer.from(chunk.subarray(i));
      return -1;
    }
    if (chunk.subarray(i, i + WARC.length).equals(WARC)) {
      const decStart = base + i;
      this.rec = { decStart, memberStart: this.memberStart, atMemberStart: decStart === this.memberDecStart || this.opts.plain };
      this.inGarbage = false;
      this.state = "header";
      return i;
    }
    this.garbage(base + i);
    // the next version line, even where the junk did not end with a line feed
    for (let j = chunk.indexOf(WARC, i + 1); j >= 0; j = chunk.indexOf(WARC, j + 1)) {
      const line = chunk.subarray(j, j + VERSION_PROBE).toString("latin1");
      if (VERSION_LINE.test(line)) return j;
      if (chunk.length - j < VERSION_PROBE && VERSION_PREFIX.test(line)) {
        this.carry = Buffer.from(chunk.subarray(j));
        return -1;
      }
    }
    this.carry = Buffer.from(chunk.subarray(Math.max(i + 1, chunk.length - (WARC.length - 1))));
    return -1;
  }

  private header(chunk: Buffer, i: number): number {
    const end = headerEnd(chunk, i, this.maxHeader);
    const r = this.rec!;
    if (end < 0) {
      if (chunk.length - i > this.maxHeader) {
        this.fail("bad_record", `no end of header block within ${this.maxHeader} bytes`);
        this.state = "seek";
        this.inGarbage = true;
        return i + 1;
      }
      this.carry = Buffer.from(chunk.subarray(i));
      return -1;
    }
    const header = chunk.subarray(i, end);
    const { version, fields } = parseHeader(header);
    const cl = fields.get("content-length");
    if (!/^WARC\/\d+\.\d+$/.test(version) || cl === undefined || !/^\d+$/.test(cl)) {
      this.fail("bad_record", cl === undefined || !/^\d+$/.test(cl ?? "") ? `missing or invalid Content-Length ${JSON.stringify(cl ?? null)}` : `bad version line ${JSON.stringify(version.slice(0, 40))}`);
      this.state = "seek";
      this.inGarbage = true;
      return i + 1;
    }
    const type = (fields.get("warc-type") ?? "").toLowerCase();
    Object.assign(r, {
      header: Buffer.from(header),
      version,
      fields,
      type,
      contentLength: Number(cl),
      remaining: Number(cl),
      keep: this.opts.keepBlock(type),
      parts: [],
      kept: 0,
      cut: false,
    });
    this.state = r.remaining === 0 ? "trailer" : "block";
    return end;
  }

  private block(chunk: Buffer, i: number, base: number): number {
    const r = this.rec!;
    const take = Math.min(r.remaining!, chunk.length - i);
    if (r.keep) {
      const room = this.opts.maxBlockBytes - r.kept!;
      const k = Math.min(take, Math.max(0, room));
      if (k > 0) {
        r.parts!.push(chunk.subarray(i, i + k));
        r.kept! += k;
      }
      if (k < take) r.cut = true;
    }
    const piece = chunk.subarray(i, i + take);
    if (r.shadow) this.keepShadow(r, piece);
    else this.findShadow(r, piece, base + i);
    r.edge = take >= EDGE ? piece.subarray(take - EDGE) : Buffer.concat([r.edge ?? Buffer.alloc(0), piece]).subarray(-EDGE);
    r.remaining! -= take;
    if (r.remaining === 0) this.state = "trailer";
    if (r.shadow && r.shadowBytes! > MAX_SHADOW_BYTES) {
      this.rewind(r, `Content-Length ${r.contentLength} runs more than ${MAX_SHADOW_BYTES >> 20} MB past a record header inside it`, chunk.subarray(i + take));
      return chunk.length;
    }
    return i + take;
  }

  /** Looks for a line starting `WARC/` in a piece of block (or across its edge with the last piece). */
  private findShadow(r: Pending, piece: Buffer, pieceAt: number): void {
    // "WARC/" then a look at the byte before: `W` is far rarer in pages than a line feed, so
    // this costs a memchr over the block, not a check at every line
    let k = -1;
    for (let w = piece.indexOf(WARC, 1); w >= 0; w = piece.indexOf(WARC, w + 1)) {
      if (piece[w - 1] === LF) {
        k = w - 1;
        break;
      }
    }
    if (k >= 0) {
      r.shadowAt = pieceAt + k + 1;
      r.shadow = [];
      r.shadowBytes = 0;
      this.keepShadow(r, piece.subarray(k + 1));
      return;
    }
    const edge = r.edge;
    if (!edge || edge.length === 0) return;
    const j = Buffer.concat([edge, piece.subarray(0, EDGE)]).indexOf(NL_WARC);
    if (j < 0) return;
    const fromEdge = edge.subarray(j + 1);
    r.shadowAt = pieceAt - fromEdge.length;
    r.shadow = [];
    r.shadowBytes = 0;
    this.keepShadow(r, fromEdge);
    this.keepShadow(r, piece);
  }

  private keepShadow(r: Pending, bytes: Buffer): void {
    if (bytes.length === 0) return;
    r.shadow!.push(Buffer.from(bytes));
    r.shadowBytes! += bytes.length;
  }

  private trailer(chunk: Buffer, i: number, base: number): number {
    const from = i;
    while (i < chunk.length && (chunk[i] === CR || chunk[i] === LF)) i++;
    const r = this.rec!;
    r.ends = (r.ends ?? 0) + (i - from);
    if (r.shadow) this.keepShadow(r, chunk.subarray(from, i));
    if (i === chunk.length) return i;
    if (chunk.length - i < WARC.length) {
      this.carry = Buffer.from(chunk.subarray(i));
      return -1;
    }
    this.state = "seek";
    if (chunk.subarray(i, i + WARC.length).equals(WARC)) {
      this.finalize(base + i, undefined);
      return i;
    }
    if (r.ends >= 2) {
      // the record ended properly; what follows is junk between records
      this.finalize(base + i, undefined);
      return i;
    }
    const what = `Content-Length ${r.contentLength} does not end where the next record starts`;
    if (r.shadow) {
      // the next record began inside the bytes the too-large Content-Length took
      this.rewind(r, what, chunk.subarray(i));
      return chunk.length;
    }
    const edge = r.ends === 0 ? r.edge : undefined;
    const j = edge ? Buffer.concat([edge, chunk.subarray(i, i + EDGE)]).indexOf(NL_WARC) : -1;
    if (edge && j >= 0 && j < edge.length) {
      // the block took only the first bytes of the next record's version line
      const head = edge.subarray(j + 1);
      this.rewind(r, what, chunk.subarray(i), base + i - head.length, [head]);
      return chunk.length;
    }
    this.fail("length_mismatch", `Content-Length ${r.contentLength} does not end where the next record starts`);
    this.inGarbage = true;
    return i;
  }

  private finalize(decEnd: number, memberEnd: number | undefined): void {
    const r = this.rec;
    this.rec = null;
    if (!r || r.header === undefined) return;
    let offset: number;
    let length: number;
    let offsetKind: OffsetKind;
    if (this.opts.plain) {
      [offset, length, offsetKind] = [r.decStart, decEnd - r.decStart, "plain"];
    } else if (memberEnd !== undefined && r.atMemberStart) {
      [offset, length, offsetKind] = [r.memberStart, memberEnd - r.memberStart, "member"];
    } else {
      [offset, length, offsetKind] = [r.decStart, decEnd - r.decStart, "decompressed"];
    }
    const parts = r.parts ?? [];
    this.out.push({
      header: r.header,
      version: r.version ?? "",
      fields: r.fields ?? new Map(),
      type: r.type ?? "",
      contentLength: r.contentLength ?? 0,
      block: parts.length === 1 ? parts[0]! : Buffer.concat(parts),
      blockCut: r.cut === true,
      offset,
      length,
      offsetKind,
    });
  }
}

export function isFrameError(x: FramedRecord | FrameError): x is FrameError {
  return "reason" in x;
}
