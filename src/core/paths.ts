import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

let root: string | undefined;

/** The folder holding mathcorpus's package.json (bundled seeds/ and data/ live there). */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "mathcorpus") return (root = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error("cannot find the mathcorpus package root");
    dir = up;
  }
}

export function packageVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")).version as string;
}

/**
 * A worker module's URL: the compiled file beside the calling module, or (when running from
 * TypeScript sources, as the tests do) the built one under dist/.
 */
export function workerModule(besideCaller: URL, distPath: string): string {
  if (fs.existsSync(fileURLToPath(besideCaller))) return besideCaller.href;
  return pathToFileURL(path.join(packageRoot(), "dist", distPath)).href;
}

/**
 * Piscina options for a task held by an ES module (`workerModule` arguments): the CommonJS entry
 * core/esm-task.cjs, which imports it (see there why piscina is not given the ES module).
 */
export function esmTaskOptions(besideCaller: URL, distPath: string): { filename: string; workerData: { esmTask: string } } {
  return {
    filename: workerModule(new URL("./esm-task.cjs", import.meta.url), "src/core/esm-task.cjs"),
    workerData: { esmTask: workerModule(besideCaller, distPath) },
  };
}

/**
 * The files under `dir` (its subfolders included, hidden entries such as .git or .cache left
 * out) whose names `accept` takes, as paths relative to `dir`, depth first in name order.
 * Symbolic links are followed — to files (Hugging Face's cache links every file into its blob
 * store) and to folders (a mirror's segments on another disk) — but each folder is walked
 * once, under the first name reached, so a link back up the tree does not loop and a folder
 * linked twice is not read twice.
 */
export function filesUnder(dir: string, accept: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walked = new Set<string>();
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    const real = fs.realpathSync(abs);
    if (walked.has(real)) return;
    walked.add(real);
    const entries = fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const r = path.join(rel, e.name);
      let isDir = e.isDirectory();
      // a link whose target is gone stays a file, so reading it fails with its name
      if (e.isSymbolicLink()) isDir = statOrUndefined(path.join(dir, r))?.isDirectory() === true;
      if (isDir) walk(r);
      else if (accept(e.name)) out.push(r);
    }
  };
  walk("");
  return out;
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/**
 * A path as messages show it: relative to the working folder when it lies inside it ("." for
 * the folder itself), else absolute — not "../../tmp/run" for a run the user named as /tmp/run.
 */
export function shownPath(cwd: string, p: string): string {
  const abs = path.resolve(cwd, p);
  const rel = path.relative(cwd, abs);
  if (rel === "") return ".";
  const outside = rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
  return outside ? abs : rel;
}
