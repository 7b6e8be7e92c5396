import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ROOT, tmpDir } from "../helpers.js";

/** [harden] #19, finding 6: a fastText training child must not outlive a SIGKILLed parent. */

/** Pids of live processes whose command line holds `needle`, read from /proc. */
function pidsWith(needle: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, "utf8");
      const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${e}/status`, "utf8"))?.[1];
      if (cmd.includes(needle) && state !== "Z") out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe("the fastText training child", () => {
  // silent (-verbose 0), as the binary is while it reads its input or writes the model: a
  // child that prints is also killed by SIGPIPE once the parent is gone, a silent one is not
  it.skipIf(!fs.existsSync("/proc/self/cmdline"))("dies when its parent is SIGKILLed", async () => {
    const dir = tmpDir();
    const input = path.join(dir, "train.txt");
    fs.writeFileSync(input, Array.from({ length: 200 }, (_, i) => `__label__${i % 2 ? "math" : "other"} word${i % 17} token${i % 5} x${i}`).join("\n") + "\n");
    const output = path.join(dir, "never-done");
    const mod = path.join(ROOT, "dist", "src", "classify", "fasttext.js");
    const code = `import(${JSON.stringify(mod)}).then((m) => m.runFastText(["supervised", "-input", ${JSON.stringify(input)}, "-output", ${JSON.stringify(output)}, "-epoch", "100000000", "-thread", "1", "-verbose", "0"]))`;
    const parent = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
    let trainers: number[] = [];
    try {
      for (let i = 0; i < 100 && trainers.length === 0; i++) {
        await sleep(100);
        trainers = pidsWith(output).filter((p) => p !== parent.pid);
      }
      expect(trainers.length).toBeGreaterThan(0);
      parent.kill("SIGKILL");
      let left = trainers;
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await sleep(100);
        left = pidsWith(output).filter((p) => p !== parent.pid);
      }
      expect(left).toEqual([]);
    } finally {
      parent.kill("SIGKILL");
      for (const p of pidsWith(output)) process.kill(p, "SIGKILL");
    }
  }, 30_000);
});
