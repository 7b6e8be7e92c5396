/**
 * A bounded async queue: producers wait when it is full (backpressure), the consumer
 * iterates; closing it ends the iteration, and a consumer that stops early closes it so
 * producers stop too.
 */
export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: unknown = undefined;
  private waitingConsumer: (() => void) | null = null;
  private readonly waitingProducers: Array<() => void> = [];

  constructor(private readonly capacity: number) {}

  /** Adds an item, waiting while the queue is full; false if the channel was closed. */
  async push(item: T): Promise<boolean> {
    while (this.items.length >= this.capacity && !this.closed) {
      await new Promise<void>((resolve) => this.waitingProducers.push(resolve));
    }
    if (this.closed) return false;
    this.items.push(item);
    this.wakeConsumer();
    return true;
  }

  /** Ends the stream after the queued items; with an error, the consumer throws it. */
  close(error?: unknown): void {
    if (error !== undefined && this.failure === undefined) this.failure = error;
    this.closed = true;
    this.wakeConsumer();
    for (const w of this.waitingProducers.splice(0)) w();
  }

  private wakeConsumer(): void {
    const w = this.waitingConsumer;
    this.waitingConsumer = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      for (;;) {
        if (this.items.length > 0) {
          const item = this.items.shift() as T;
          this.waitingProducers.shift()?.();
          yield item;
          continue;
        }
        if (this.closed) {
          if (this.failure !== undefined) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => (this.waitingConsumer = resolve));
      }
    } finally {
      this.closed = true;
      for (const w of this.waitingProducers.splice(0)) w();
    }
  }
}
