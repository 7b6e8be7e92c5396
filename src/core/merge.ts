/**
 * Merges streams that are each sorted by `less` into one sorted stream (a k-way merge; ties go
 * to the earlier stream). Ending the generator early (`return()`) ends every stream, so SQLite
 * statements being iterated are finished.
 */
export function* mergeSorted<T>(streams: Iterable<T>[], less: (a: T, b: T) => boolean): Generator<T, void, undefined> {
  const its = streams.map((s) => s[Symbol.iterator]());
  const heads: Array<IteratorResult<T>> = its.map((it) => it.next());
  try {
    if (its.length === 1) {
      // one stream (a run of one task): no comparisons
      for (let h = heads[0]!; !h.done; h = its[0]!.next()) yield h.value;
      return;
    }
    // a binary heap of stream indexes by their heads
    const heap: number[] = [];
    const before = (i: number, j: number) => {
      const a = (heads[i] as IteratorYieldResult<T>).value;
      const b = (heads[j] as IteratorYieldResult<T>).value;
      return less(a, b) || (!less(b, a) && i < j);
    };
    const up = (k: number) => {
      while (k > 0) {
        const p = (k - 1) >> 1;
        if (!before(heap[k]!, heap[p]!)) break;
        [heap[k], heap[p]] = [heap[p]!, heap[k]!];
        k = p;
      }
    };
    const down = (k: number) => {
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === k) return;
        [heap[k], heap[m]] = [heap[m]!, heap[k]!];
        k = m;
      }
    };
    heads.forEach((h, i) => {
      if (!h.done) {
        heap.push(i);
        up(heap.length - 1);
      }
    });
    while (heap.length > 0) {
      const i = heap[0]!;
      yield (heads[i] as IteratorYieldResult<T>).value;
      heads[i] = its[i]!.next();
      if (heads[i]!.done) {
        heap[0] = heap[heap.length - 1]!;
        heap.pop();
      }
      if (heap.length > 0) down(0);
    }
  } finally {
    its.forEach((it, i) => {
      if (!heads[i]?.done) it.return?.();
    });
  }
}
