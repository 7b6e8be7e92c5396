/**
 * Crawled text (URLs, titles, record headers) shown to a person: control characters would move
 * the cursor, recolour or retitle a terminal (ESC, BEL, C1 controls) or add TSV columns and
 * rows (TAB, CR, LF). Human-readable output escapes them, as \t, \n, \r, \xNN or \u00NN;
 * JSON output is escaped by JSON itself.
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

function escape(c: string): string {
  if (c === "\t") return "\\t";
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
}

/** One field of a table or TSV line: every control character escaped. */
export function safeField(s: string): string {
  return s.replace(CONTROLS, escape);
}

/** A message of one or more lines (warnings, errors): controls escaped, line feeds kept. */
export function safeMessage(s: string): string {
  return s.replace(CONTROLS_BUT_LF, escape);
}

/** A TSV line of fields, each made safe. */
export function tsvLine(fields: Array<string | number>): string {
  return fields.map((f) => (typeof f === "number" ? String(f) : safeField(f))).join("\t");
}
