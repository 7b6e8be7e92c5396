/**
 * One error hierarchy for the whole tool. Every error carries a stable code and the
 * exit code `main` maps it to, and says how far it reaches (the run, one source, one record).
 * Library code throws these; only `main` turns them into exit codes.
 */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  input: 3,
  partial: 4,
  verifyFailed: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class MathcorpusError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  constructor(code: string, message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad flags, a bad config file or value: nothing was started. */
export class UsageError extends MathcorpusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("usage", message, EXIT.usage, options);
  }
}

/** An input that cannot be used at all (missing file, unreadable listing): nothing or little was done. */
export class InputError extends MathcorpusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("input", message, EXIT.input, options);
  }
}

/**
 * Tasks of a stage that did not finish: a rerun runs only those. The exit code is the tasks' own
 * (3: a full disk in a task), or 4 for a task ended by a signal (killed, preempted, out of memory).
 */
export class TaskError extends MathcorpusError {
  constructor(message: string, exitCode: ExitCode = EXIT.partial, options?: { cause?: unknown }) {
    super("task", message, exitCode, options);
  }
}

/**
 * One source (a WARC file or URL) could not be read to its end; the run goes on with the others.
 * `offset` is the byte offset in the source where it failed, when known.
 */
export class SourceError extends MathcorpusError {
  readonly source: string;
  readonly offset: number | undefined;
  constructor(source: string, message: string, offset?: number, options?: { cause?: unknown }) {
    super("source", `${source}${offset === undefined ? "" : ` @${offset}`}: ${message}`, EXIT.partial, options);
    this.source = source;
    this.offset = offset;
  }
}

/** A network failure that may pass: retried with backoff before it becomes a SourceError. */
export class RetryableError extends MathcorpusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("retryable", message, EXIT.partial, options);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * What the machine, not the tool, got wrong — a full disk, a folder that cannot be written, a
 * damaged work store — as a message saying what to do, or undefined for other errors (bugs).
 */
export function environmentProblem(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  const what = errorMessage(err);
  if ((err as { logOnly?: unknown }).logOnly === true && (code === "ENOSPC" || code === "EDQUOT")) {
    return `no space left on the disk (${what}): the command's work is done and stored; only its log lacks the lines from then on. Free some before the next command`;
  }
  if (code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_FULL") return `no space left on the disk (${what}): free some and rerun; a run resumes where it stopped`;
  if (code === "EACCES" || code === "EPERM" || code === "EROFS" || code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_CANTOPEN") || code === "SQLITE_PERM") {
    return `cannot write here (${what}): check the folder's permissions, or choose another with --run / --out`;
  }
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) return `a database file is damaged or is not one of mathcorpus's (${what}): restore it, or start a new run (another --run DIR)`;
  // SQLite reports a write refused by a full disk as SQLITE_FULL or as one of these
  if (code === "SQLITE_IOERR" || code.startsWith("SQLITE_IOERR_") || code === "EIO") return `the disk failed to read or write (${what}; ${code}): if it is full, free some and rerun; a run resumes where it stopped`;
  return undefined;
}
