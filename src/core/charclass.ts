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
