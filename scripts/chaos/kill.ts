import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { CLI, type Row, SAMPLE, STACK, note, rng, row } from "./common.js";
import { members } from "./records.js";

/**
 * SIGKILL at random points of a round over a multi-file crawl, as one process and as three
 * tasks on local workers; after each kill the round is run again to its end, and everything it
 * decided must equal what an uninterrupted round decided.
 */

/** The bundled crawl's records dealt into `n` files (one gzip member each, as Common Crawl writes them). */
export function splitSample(dir: string, n: number): string[] {
  const parts: Buffer[][] = Array.from({ length: n }, () => []);
  const raw = fs.readFileSync(SAMPLE);
  members(SAMPLE).forEach((m, i) => parts[i % n]!.push(raw.subarray(m.offset, m.offset + m.length)));
  fs.mkdirSync(dir, { recursive: true });
  return parts.map((p, i) => {
    const f = path.join(dir, `part-${i}.warc.gz`);
    fs.writeFileSync(f, Buffer.concat(p));
    return f;
  });
}

/** True when the run's round 1 is recorded done (its result is complete, whatever came after). */
export function roundDone(runDir: string): boolean {
  const file = path.join(runDir, "work.sqlite");
  if (!fs.existsSync(file)) return false;
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT step FROM rounds WHERE round = 1").pluck().get() === "done";
  } catch {
    return false;
  } finally {
    db.close();
  }
}

/** The pids of `parent`'s children that run `mathcorpus task`. */
export function taskChildren(parent: number): number[] {
  let kids: string;
  try {
    kids = fs.readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8");
  } catch {
    return [];
  }
  return kids
    .split(" ")
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("task");
      } catch {
        return false;
      }
    });
}

/** A digest of everything a run decided, from all its stores. */
export function runDigest(runDir: string): string {
  const files = [path.join(runDir, "work.sqlite")];
  const tasks = path.join(runDir, "tasks");
  if (fs.existsSync(tasks)) for (const t of fs.readdirSync(tasks).sort()) if (fs.existsSync(path.join(tasks, t, "work.sqlite"))) files.push(path.join(tasks, t, "work.sqlite"));
  const h = crypto.createHash("sha256");
  const queries = [
    "SELECT id, url_norm, content_hash FROM documents ORDER BY id",
    "SELECT doc_id, hex(hashes) FROM features ORDER BY doc_id",
    "SELECT round, doc_id, score FROM scores ORDER BY round, doc_id",
    "SELECT round, doc_id FROM selections ORDER BY round, doc_id",
    "SELECT doc_id, round, prefix FROM promoted ORDER BY doc_id",
  ];
  const rows: string[] = [];
  for (const f of files) {
    const db = new Database(f, { readonly: true });
    try {
      for (const q of queries) rows.push(...(db.prepare(q).raw().all() as unknown[][]).map((r) => `${q.slice(7, 30)}|${JSON.stringify(r)}`));
      if (f === files[0]) rows.push(...(db.prepare("SELECT round, step, cutoff, selected FROM rounds ORDER BY round").raw().all() as unknown[][]).map((r) => `rounds|${JSON.stringify(r)}`));
    } finally {
      db.close();
    }
  }
  for (const r of rows.sort()) h.update(r + "\n");
  return h.digest("hex");
}

export async function killPoints(points: number, seed: number, tmp: string, files: string[]): Promise<Row & { killedIn: Record<string, number> }> {
  const r = { ...row("SIGKILL points"), killedIn: {} as Record<string, number> };
  const R = rng(seed);
  const variants: Array<{ name: string; flags: string[]; victim: "round" | "task" }> = [
    { name: "one process", flags: [], victim: "round" },
    { name: "3 tasks", flags: ["--tasks", "3", "--workers", "2"], victim: "round" },
    { name: "3 tasks, one task killed", flags: ["--tasks", "3", "--workers", "2"], victim: "task" },
  ];
  const argv = (dir: string, flags: string[]) => [CLI, "round", "--run", dir, "--sources", files.join(","), "--bucket", "20000", "--deterministic", "--json", ...flags];
  const refs = variants.slice(0, 2).map((v, i) => {
    const dir = path.join(tmp, `ref-${i}`);
    const t0 = Date.now();
    const res = spawnSync(process.execPath, argv(dir, v.flags), { encoding: "utf8", timeout: 300_000 });
    if (res.status !== 0) throw new Error(`the uninterrupted round (${v.name}) failed: ${res.stderr}`);
    return { digest: runDigest(dir), ms: Date.now() - t0 };
  });
  for (let k = 0; k < points; k++) {
    // one process, the coordinator of 3 tasks, and one of its task processes, in turn
    const v = variants[k % 4 === 3 ? 2 : k % 4 === 1 ? 1 : 0]!;
    const vi = v.flags.length ? 1 : 0;
    const dir = path.join(tmp, `kill-${k}`);
    const delay = 150 + R.int(Math.floor(refs[vi]!.ms * 0.95));
    r.tried++;
    const child = spawn(process.execPath, argv(dir, v.flags), { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    let done = false;
    const exited = new Promise<void>((resolve) =>
      child.on("exit", () => {
        done = true;
        resolve();
      }),
    );
    let victim = "the round";
    let killed = false;
    const timer = setTimeout(() => {
      if (v.victim === "round") {
        killed = !done && child.kill("SIGKILL");
        return;
      }
      // the first task process alive from then on (tasks run during the crawl and the scoring)
      const poll = () => {
        if (done) return;
        const pid = taskChildren(child.pid!)[0];
        if (pid === undefined) {
          setTimeout(poll, 20);
          return;
        }
        victim = `task process ${pid}`;
        try {
          process.kill(pid, "SIGKILL");
          killed = true;
        } catch {
          setTimeout(poll, 20);
        }
      };
      poll();
    }, delay);
    await exited;
    clearTimeout(timer);
    // the coordinator of a killed task says which and exits 4 (some tasks failed)
    const badExit = v.victim === "task" && killed && child.exitCode !== 4 && !roundDone(dir) ? `exit ${child.exitCode}` : undefined;
    if (STACK.test(err) || badExit) {
      r.crashed++;
      note(r, `${v.name}, ${victim} killed after ${delay} ms: ${badExit ?? "a stack trace"}: ${err.trim().split("\n").slice(-2).join(" | ")}`, true);
      continue;
    }
    const step = /round 1: (\w+)\n(?![\s\S]*round 1: \w+\n)/.exec(err)?.[1] ?? (/crawling/.test(err) ? "crawl" : "start");
    const where = killed ? `${v.victim === "task" ? "a task, in " : ""}${step}` : "not killed: ended first";
    r.killedIn[where] = (r.killedIn[where] ?? 0) + 1;
    await sleep(300); // its task children see their pipe close and end
    // a round that ended, or was recorded done, before its kill is not run again (that would be round 2)
    const again = killed && !roundDone(dir) ? spawnSync(process.execPath, argv(dir, v.flags), { encoding: "utf8", timeout: 300_000 }) : { status: child.exitCode, stderr: err, error: undefined };
    if (again.error || again.status === null) {
      r.hung++;
      note(r, `${v.name}, ${victim} killed after ${delay} ms: the rerun did not end`, true);
      continue;
    }
    if (again.status !== 0 || STACK.test(again.stderr)) {
      r.crashed++;
      note(r, `${v.name}, ${victim} killed after ${delay} ms: rerun exit ${again.status}: ${again.stderr.trim().split("\n").slice(-2).join(" | ")}`, true);
      continue;
    }
    r.compared++;
    if (runDigest(dir) === refs[vi]!.digest) r.identical++;
    else {
      r.lost++;
      note(r, `${v.name}, ${victim} killed after ${delay} ms (in ${step}): the rerun's result differs from the uninterrupted round's`, true);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return r;
}
