import type { Writable } from "node:stream";

/** The streams a command may write to; `main` is given them, so tests capture output in-process. */
export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  /** Working directory that relative paths resolve against. */
  cwd: string;
  env: Record<string, string | undefined>;
  /** Aborted on SIGINT/SIGTERM; long work checks it and stops cleanly. */
  signal?: AbortSignal;
}

export function write(stream: Writable, text: string): void {
  stream.write(text);
}

/** Writes a line and waits for the stream to drain, so large outputs keep memory flat. */
export async function writeLine(stream: Writable, line: string): Promise<void> {
  if (!stream.write(line + "\n")) {
    await new Promise<void>((resolve) => stream.once("drain", resolve));
  }
}
