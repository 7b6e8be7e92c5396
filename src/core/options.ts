import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { UsageError, errorMessage } from "./errors.js";

/**
 * Typed command options: each one has a type, a default and help text; `--help` prints
 * them, and resolution is defaults < config file (`--config`) < flags.
 */
export type OptionType = "string" | "boolean" | "number" | "bytes" | "list";

export interface OptionSpec {
  type: OptionType;
  help: string;
  default?: string | boolean | number | string[];
  /** Placeholder shown in help, e.g. FILE. */
  arg?: string;
  short?: string;
  /** Allowed values for a string option. */
  choices?: readonly string[];
}

export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<T extends OptionType> = T extends "boolean"
  ? boolean
  : T extends "number" | "bytes"
    ? number
    : T extends "list"
      ? string[]
      : string;

export type Resolved<O extends OptionSpecs> = {
  [K in keyof O]: O[K] extends { default: unknown } ? ValueOf<O[K]["type"]> : ValueOf<O[K]["type"]> | undefined;
};

export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** Parses "64MiB", "512k", "1048576" into bytes. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = SIZE_UNITS[(m[2] ?? "").toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.round(Number(m[1]) * unit);
}

function coerce(name: string, spec: OptionSpec, raw: unknown, where: string): string | boolean | number | string[] {
  const flag = `--${kebab(name)}`;
  const bad = (expected: string) => new UsageError(`${where}: ${flag} expects ${expected}, got ${JSON.stringify(raw)}`);
  switch (spec.type) {
    case "boolean":
      if (typeof raw === "boolean") return raw;
      if (raw === "true" || raw === "false") return raw === "true";
      throw bad("true or false");
    case "number": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw bad("a number");
      return n;
    }
    case "bytes": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" ? parseBytes(raw) : undefined;
      if (n === undefined || !Number.isFinite(n) || n < 0) throw bad("a size such as 1048576, 512KiB or 64MiB");
      return n;
    }
    case "list": {
      const items = Array.isArray(raw) ? raw : [raw];
      if (!items.every((x) => typeof x === "string")) throw bad("strings");
      return items.flatMap((x: string) => x.split(",").map((s) => s.trim()).filter(Boolean));
    }
    case "string":
      if (typeof raw !== "string" && typeof raw !== "number") throw bad("a string");
      if (spec.choices && !spec.choices.includes(String(raw))) throw bad(`one of ${spec.choices.join(", ")}`);
      return String(raw);
  }
}

/** Reads a JSON config file: flat option names (kebab or camel case), or a section named after the command. */
export function readConfigFile(file: string, command: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`cannot read config file ${file}: ${errorMessage(err)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`config file ${file} must hold a JSON object`);
  }
  const obj = parsed as Record<string, unknown>;
  const section = obj[command];
  const flat = Object.fromEntries(Object.entries(obj).filter(([, v]) => typeof v !== "object" || v === null || Array.isArray(v)));
  const merged = { ...flat, ...(typeof section === "object" && section !== null && !Array.isArray(section) ? section : {}) };
  return Object.fromEntries(Object.entries(merged).map(([k, v]) => [camel(k), v]));
}

export interface ParsedCommandLine<O extends OptionSpecs> {
  options: Resolved<O>;
  positionals: string[];
  help: boolean;
  dryRun: boolean;
  configFile: string | undefined;
  /** Options set on the command line or in the config file (the others have their defaults). */
  given: Set<string>;
}

/** Parses argv for one command: flags override the config file, which overrides defaults. */
export function parseCommandLine<O extends OptionSpecs>(
  command: string,
  specs: O,
  argv: string[],
  cwd: string,
  /** Whether the command takes arguments that are not options (sources, a folder). */
  takesPositionals = false,
): ParsedCommandLine<O> {
  // a boolean option is turned off with --no-NAME or --NAME=false (util.parseArgs knows neither
  // on every Node 20); the rest goes to parseArgs
  const booleans = new Map(Object.entries(specs).filter(([, s]) => s.type === "boolean").map(([n]) => [kebab(n), n]));
  const valued = new Set(Object.entries(specs).filter(([, s]) => s.type !== "boolean").map(([n]) => kebab(n)));
  const set = new Map<string, boolean>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const neg = /^--no-(.+)$/.exec(a);
    const eq = /^--([^=]+)=(true|false)$/.exec(a);
    const next = argv[i + 1];
    if (/^--[^=]+$/.test(a) && valued.has(a.slice(2)) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      // a negative number after an option is its value (util.parseArgs calls it ambiguous):
      // the range check then says what the option takes
      rest.push(`${a}=${next}`);
      i++;
    } else if (neg && booleans.has(neg[1]!)) set.set(neg[1]!, false);
    else if (eq && booleans.has(eq[1]!)) set.set(eq[1]!, eq[2] === "true");
    else rest.push(a);
  }
  argv = rest;
  const parseSpec: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    help: { type: "boolean", short: "h" },
    "dry-run": { type: "boolean" },
    config: { type: "string" },
  };
  for (const [name, spec] of Object.entries(specs)) {
    parseSpec[kebab(name)] = {
      type: spec.type === "boolean" ? "boolean" : "string",
      ...(spec.type === "list" ? { multiple: true } : {}),
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: parseSpec, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${command}: ${errorMessage(err)} (see mathcorpus ${command} --help)`);
  }
  const values = parsed.values as Record<string, unknown>;
  for (const [k, v] of set) values[k] = v;
  if (!takesPositionals && parsed.positionals.length > 0) {
    const [first] = parsed.positionals;
    const after = argv[argv.indexOf(first!) - 1];
    const hint =
      after && booleans.has(after.replace(/^--/, ""))
        ? ` (${after} takes no value: write --no-${after.replace(/^--/, "")} or ${after}=false to turn it off)`
        : "sources" in specs
          ? " (name sources with --sources SOURCE,...)"
          : "";
    throw new UsageError(`${command}: unexpected argument ${JSON.stringify(first)}${hint}; ${command} takes options only (see mathcorpus ${command} --help)`);
  }
  const configFile = typeof values.config === "string" ? path.resolve(cwd, values.config) : undefined;
  const fromFile = configFile ? readConfigFile(configFile, command) : {};
  for (const key of Object.keys(fromFile)) {
    if (!(key in specs)) throw new UsageError(`config file ${configFile}: unknown option "${kebab(key)}" for ${command}`);
  }
  const options: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [name, spec] of Object.entries(specs)) {
    const flagValue = values[kebab(name)];
    if (flagValue !== undefined) options[name] = coerce(name, spec, flagValue, "command line");
    else if (fromFile[name] !== undefined) options[name] = coerce(name, spec, fromFile[name], `config file ${configFile}`);
    else options[name] = spec.default;
    if (flagValue !== undefined || fromFile[name] !== undefined) given.add(name);
  }
  return {
    options: options as Resolved<O>,
    positionals: parsed.positionals,
    help: values.help === true,
    dryRun: values["dry-run"] === true,
    configFile,
    given,
  };
}

/** Renders `--help` for a command from its option specs. */
export function renderHelp(command: string, usage: string, summary: string, specs: OptionSpecs, details = ""): string {
  const lines = [`Usage: mathcorpus ${command} ${usage}`.trimEnd(), "", summary, ""];
  if (details) lines.push(details.trimEnd(), "");
  lines.push("Options:");
  const rows: Array<[string, string]> = Object.entries(specs).map(([name, spec]) => {
    const arg = spec.type === "boolean" ? "" : ` ${spec.arg ?? (spec.type === "list" ? "X,..." : spec.type.toUpperCase())}`;
    const short = spec.short ? `-${spec.short}, ` : "";
    let help = spec.help;
    if (spec.choices) help += ` (one of: ${spec.choices.join(", ")})`;
    const d = spec.default;
    if (d !== undefined && d !== "" && !(Array.isArray(d) && d.length === 0) && d !== false) help += ` [default: ${Array.isArray(d) ? d.join(",") : String(d)}]`;
    if (spec.type === "boolean" && d === true) help += `; --no-${kebab(name)} turns it off`;
    return [`  ${short}--${kebab(name)}${arg}`, help];
  });
  rows.push(["  --config FILE", "JSON file of option values (kebab or camel case, flat or under a section named after the command); flags override it"]);
  rows.push(["  --dry-run", "print the resolved configuration as JSON and exit"]);
  rows.push(["  -h, --help", "show this help"]);
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  for (const [left, help] of rows) {
    lines.push(left.length >= width ? `${left}\n${" ".repeat(width)}${help}` : left.padEnd(width) + help);
  }
  return lines.join("\n") + "\n";
}
