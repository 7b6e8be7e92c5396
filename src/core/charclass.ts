/**
 * Character classes by regular expression, computed once per code point and cached (a byte
 * per BMP code unit, a map for the rest): the hot loops over page text test a table, not a
 * regex. Bit 1 marks "known"; bit 2 << i is set when `tests[i]` matches the code point.
 */
export function charClasses(tests: RegExp[]): (cp: number) => number {
  const bmp = new Uint8Array(65536);
  const astral = new Map<number, number>();
  const compute = (cp: number): number => {
    const ch = String.fromCodePoint(cp); // a lone surrogate stays one; no class matches it
    let k = 1;
    for (let i = 0; i < tests.length; i++) if (tests[i]!.test(ch)) k |= 2 << i;
    return k;
  };
  return (cp) => {
    if (cp < 65536) {
      const k = bmp[cp]!;
      return k !== 0 ? k : (bmp[cp] = compute(cp));
    }
    let k = astral.get(cp);
    if (k === undefined) astral.set(cp, (k = compute(cp)));
    return k;
  };
}

/**
 * `String.prototype.charCodeAt`, for hot loops as `charCode.call(s, i)` (with the length read
 * once). Where strings reach a loop in many representations (flat, sliced, concatenated, one-
 * and two-byte), as the text nodes of a page tree do, `s.charCodeAt(i)` becomes a megamorphic
 * method call of ~10 ns per character; `charCode.call(s, i)` is compiled to an inline read
 * whatever the string: 13.7 → 3.5 ns per character over a tree's text nodes, and content
 * selection 1.03–1.23 → 0.93–1.06 ms per CC-style page (A/B in one process). Loops that see
 * one or two kinds of string (the tokenizer's buffer, a page's rendered text) were as fast or
 * faster with `s.charCodeAt(i)` and keep it.
 */
export const charCode = String.prototype.charCodeAt;
