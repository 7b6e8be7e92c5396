import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runDigest } from "./kill.js";
import { CLI, type Row, STACK, note, rng, row } from "./common.js";

/**
 * A disk that fills up at a chosen point of a round (crawl, train, score, select) or of an
 * export. Each point runs in a private mount namespace (`unshare -Urm`) on a real tmpfs: the
 * command runs, the disk is filled when its stderr says the point is reached, the command must
 * fail with exit 3 naming the disk (or finish cleanly), the filler is removed, and a rerun must
 * finish with exactly the result of a run that never saw a full disk.
 */

export const ROUND_FLAGS = ["--bucket", "20000", "--deterministic", "--json"];
const EXPORT_FLAGS = ["--shard-docs", "5"];
export const DISK_POINTS = ["crawl", "train", "score", "select", "export"] as const;
type Point = (typeof DISK_POINTS)[number];
/** The round's stderr line at which the disk is filled. */
const MARKER: Record<Exclude<Point, "export">, RegExp> = {
  crawl: /round 1: crawling/,
  train: /round 1: train\n/,
  score: /round 1: score\n/,
  select: /round 1: select\n/,
};

export function canMount(): boolean {
  const r = spawnSync("unshare", ["-Urm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /tmp && echo ok"], { encoding: "utf8" });
  return r.stdout?.trim() === "ok";
}

interface ChildResult {
  firstCode: number | null;
  firstErr: string;
  filled: boolean;
  rerunCode: number | null;
  rerunErr: string;
  digest: string;
}

/** What a finished export holds, without the time it was made. */
export function exportDigest(out: string): string {
  const m = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")) as Record<string, unknown>;
  return JSON.stringify([m.documents, m.tokens, m.shards]);
}

/** Writes until the disk holding `dir` has at most `leave` bytes free. */
function fill(dir: string, leave: number): void {
  const fd = fs.openSync(path.join(dir, "filler"), "w");
  try {
    for (let size = 1 << 20; size >= 4096; size >>= 1) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        const free = fs.statfsSync(dir);
        if (free.bavail * free.bsize - size < leave) break;
        try {
          fs.writeSync(fd, chunk);
        } catch {
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs `argv`; when `marker` shows on its stderr (or at once, without one), fills the disk. */
function runFilling(argv: string[], mnt: string, marker: RegExp | undefined, leave: number): Promise<{ code: number | null; err: string; filled: boolean }> {
  return new Promise((resolve) => {
    let filled = false;
    if (!marker) {
      fill(mnt, leave);
      filled = true;
    }
    // its own process group, so the command and its children are held still while the disk fills
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "ignore", "pipe"], detached: true });
    let err = "";
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 300_000);
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (!filled && marker!.test(err)) {
        process.kill(-child.pid!, "SIGSTOP");
        fill(mnt, leave);
        filled = true;
        process.kill(-child.pid!, "SIGCONT");
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, err, filled });
    });
  });
}

/** In the namespace: mount, run with the disk filling up, free it, run again. Prints a ChildResult. */
async function child(mnt: string, point: Point, leave: number, sources: string): Promise<void> {
  spawnSync("mount", ["-t", "tmpfs", "-o", "size=400m", "tmpfs", mnt], { stdio: "inherit" });
  const run = path.join(mnt, "run");
  const round = [CLI, "round", "--run", run, "--sources", sources, ...ROUND_FLAGS];
  let argv = round;
  if (point === "export") {
    for (const a of [round, [CLI, "clean", "--run", run]]) {
      const r = spawnSync(process.execPath, a, { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${a[1]} before the export failed: ${r.stderr}`);
    }
    argv = [CLI, "export", "--run", run, ...EXPORT_FLAGS];
  }
  const first = await runFilling(argv, mnt, point === "export" ? undefined : MARKER[point], leave);
  fs.rmSync(path.join(mnt, "filler"), { force: true });
  // CHAOS_KEEP=DIR keeps copies of the run after the full disk and after the rerun, to look at
  const keep = (name: string) => process.env.CHAOS_KEEP && fs.cpSync(run, path.join(process.env.CHAOS_KEEP, `${point}-${name}`), { recursive: true });
  keep("after-full");
  // a command that finished in spite of the disk, or says its work is stored, is not run again (a second `round` is round 2)
  // as a user does: the rerun follows what the message said
  const stored = first.code === 0 || /work is done and stored/.test(first.err);
  const again = stored ? { status: 0, stderr: "" } : spawnSync(process.execPath, argv, { encoding: "utf8", timeout: 300_000 });
  keep("after-rerun");
  let digest = "";
  let rerunErr = again.stderr ?? "";
  if (again.status === 0) {
    if (point === "export") {
      const v = spawnSync(process.execPath, [CLI, "verify", path.join(run, "export")], { encoding: "utf8" });
      digest = v.status === 0 ? exportDigest(path.join(run, "export")) : "";
      if (v.status !== 0) rerunErr += `\nverify: exit ${v.status}: ${v.stdout}${v.stderr}`;
    } else digest = runDigest(run);
  }
  const result: ChildResult = { firstCode: first.code, firstErr: first.err, filled: first.filled, rerunCode: again.status, rerunErr, digest };
  process.stdout.write(JSON.stringify(result));
}

/** The digests of a round and of its export with room on the disk. */
function reference(tmp: string, sources: string): { round: string; export: string } {
  const run = path.join(tmp, "disk-ref");
  for (const a of [["round", "--run", run, "--sources", sources, ...ROUND_FLAGS], ["clean", "--run", run], ["export", "--run", run, ...EXPORT_FLAGS]]) {
    const r = spawnSync(process.execPath, [CLI, ...a], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`the reference ${a[0]} failed: ${r.stderr}`);
  }
  return { round: runDigest(run), export: exportDigest(path.join(run, "export")) };
}

/** `points` full-disk points, cycling through crawl, train, score, select and export. */
export async function diskPoints(points: number, seed: number, tmp: string, sources: string): Promise<Row> {
  const r = row("disk full");
  if (!canMount()) {
    note(r, "skipped: no private mount namespace here (unshare -Urm)");
    return r;
  }
  const R = rng(seed);
  const ref = reference(tmp, sources);
  const self = fileURLToPath(import.meta.url);
  for (let k = 0; k < points; k++) {
    const point = DISK_POINTS[k % DISK_POINTS.length]!;
    // a full disk, or one with a little room left (a few pages or rows; a few shards)
    const leave = R.next() < 0.5 ? 0 : R.int(point === "export" ? 1 << 20 : 64 << 10);
    const mnt = fs.mkdtempSync(path.join(tmp, `disk-${point}-`));
    r.tried++;
    const res = spawnSync("unshare", ["-Urm", process.execPath, self, "--child", mnt, point, String(leave), sources], { encoding: "utf8", timeout: 900_000 });
    fs.rmSync(mnt, { recursive: true, force: true });
    const what = `${point} (${leave} bytes left)`;
    if (res.error || res.status === null) {
      r.hung++;
      note(r, `${what}: no end`, true);
      continue;
    }
    let c: ChildResult;
    try {
      c = JSON.parse(res.stdout) as ChildResult;
    } catch {
      r.crashed++;
      note(r, `${what}: the point's runner failed: ${res.stderr.trim().split("\n").slice(-3).join(" | ")}`, true);
      continue;
    }
    const firstOk = c.firstCode === 0 || (c.firstCode === 3 && /disk|space/i.test(c.firstErr));
    if (!firstOk || STACK.test(c.firstErr) || c.firstCode === null) {
      r.crashed++;
      note(r, `${what}: exit ${c.firstCode} on the full disk: ${c.firstErr.trim().split("\n").slice(-2).join(" | ")}`, true);
      continue;
    }
    if (c.rerunCode !== 0 || STACK.test(c.rerunErr)) {
      r.crashed++;
      note(r, `${what}: the rerun with room gave exit ${c.rerunCode}: ${c.rerunErr.trim().split("\n").slice(-2).join(" | ")}`, true);
      continue;
    }
    r.compared++;
    if (c.digest === (point === "export" ? ref.export : ref.round)) {
      r.identical++;
      note(r, `${what}: ${c.firstCode === 3 ? `exit 3 "${c.firstErr.trim().split("\n").pop()!.slice(0, 140)}"` : "finished without needing more room"}; the rerun's result is identical`);
    } else {
      r.lost++;
      note(r, `${what}: exit ${c.firstCode} on the full disk${c.firstCode ? ` ("${c.firstErr.trim().split("\n").pop()!.slice(0, 140)}")` : ""}; the rerun's result differs from a run with room`, true);
    }
  }
  return r;
}

if (process.argv[2] === "--child") {
  const [mnt, point, leave, sources] = process.argv.slice(3);
  await child(mnt!, point as Point, Number(leave), sources!);
}
