import fs from "node:fs";
import { afterAll } from "vitest";
import { tmpDirs } from "./helpers.js";

// every test file removes the temporary folders it made (runs, crawls, exports: ~2 GB per
// suite run, which filled a disk); MC_KEEP_TMP=1 keeps them for a look after a failure
afterAll(() => {
  if (process.env.MC_KEEP_TMP) return;
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
