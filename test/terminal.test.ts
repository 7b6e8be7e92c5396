import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { safeField, safeMessage } from "../src/core/terminal.js";
import { runCli, tmpDir } from "./helpers.js";
import { responseRecord } from "./warc/build.js";

/** [harden] #19, finding 5: crawled control characters never reach a terminal raw. */
const ESC = "\x1b";
const BEL = "\x07";
const RAW = /[\x00-\x08\x0b-\x1f\x7f]/; // any control but TAB and LF (those are checked per line)

describe("control characters from the crawl are escaped in human-readable output", () => {
  const dir = tmpDir();
  const evilUrl = `https://evil.example/a${ESC}[31mred${BEL}\tcol`;
  const title = `Title ${ESC}]0;pwned${BEL} here`;
  const text = `<p>${"Plain words of an ordinary page about numbers and sets. ".repeat(10)}</p>`;
  const records = [
    responseRecord(evilUrl, `<html><head><title>${title}</title></head><body>${text}</body></html>`),
    responseRecord("https://fine.example/", `<html><head><title>fine</title></head><body>${text}</body></html>`),
    // declared UTF-16, lone surrogates only: dropped as undecodable with a warning naming the URL
    responseRecord(`https://bad.example/${ESC}[2J`, Buffer.from(Array.from({ length: 3000 }, (_, i) => (i % 2 ? 0x00 : 0xd8))), "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-16be\r\n"),
  ];
  const file = path.join(dir, "evil.warc.gz");
  fs.writeFileSync(file, Buffer.concat(records.map((r) => zlib.gzipSync(r))));

  it("pages: the TSV keeps 8 columns and shows ESC, BEL and TAB as escapes", async () => {
    const r = await runCli(["pages", file]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l.split("\t")).toHaveLength(8);
    expect(r.stdout).not.toMatch(RAW);
    expect(lines[0]!.split("\t")[0]).toBe("https://evil.example/a\\x1b[31mred\\x07\\tcol");
    const json = await runCli(["pages", file, "--jsonl"]);
    expect((JSON.parse(json.stdout.split("\n")[0]!) as { url: string }).url).toBe(evilUrl);
  });

  it("extract: the overview escapes URL and title; the warning naming the URL is escaped", async () => {
    const r = await runCli(["extract", file, "--threads", "0"]);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stderr).not.toMatch(RAW);
    const lines = r.stdout.trim().split("\n");
    for (const l of lines) expect(l.split("\t")).toHaveLength(5);
    expect(lines[0]).toContain("Title \\x1b]0;pwned\\x07 here");
    expect(r.stderr).toMatch(/warning: https:\/\/bad\.example\/\\x1b\[2J: undecodable/);
  });

  it("safeField and safeMessage", () => {
    expect(safeField("a\tb\nc\rd\u0085e\u2028")).toBe("a\\tb\\nc\\rd\\x85e\\u2028");
    expect(safeMessage("line one\nline two\x1b")).toBe("line one\nline two\\x1b");
  });
});
