import type { Writable } from "node:stream";

/**
 * A single self-overwriting progress line on a TTY; silent elsewhere (logs and the
 * final summary carry the information for non-interactive runs).
 */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly started = Date.now();
  constructor(
    private readonly stream: Writable & { isTTY?: boolean },
    private readonly intervalMs = 250,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  /** Seconds since the progress started. */
  elapsed(): number {
    return (Date.now() - this.started) / 1000;
  }

  update(render: () => string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.shown = true;
    this.stream.write(`\r\x1b[2K${render()}`);
  }

  /** Clears the line; the next update (a new phase) is shown at once. */
  done(): void {
    if (this.shown) this.stream.write("\r\x1b[2K");
    this.shown = false;
    this.last = 0;
  }
}

export function formatRate(count: number, seconds: number): string {
  return seconds > 0 ? (count / seconds).toFixed(0) : "-";
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** "45s", "12m40s", "3h05m": a duration for an ETA. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** "score 12000/200000  1500 pages/s  ETA 2m06s": a step's count, rate and ETA after `seconds`. */
export function countLine(label: string, done: number, total: number, seconds: number): string {
  return `${label} ${done}/${total}  ${formatRate(done, seconds)} pages/s  ETA ${done > 0 ? formatDuration((seconds * (total - done)) / done) : "-"}`;
}
