import crypto from "node:crypto";
import http from "node:http";
import os from "node:os";
import type { AddressInfo } from "node:net";
import { MathcorpusError, UsageError } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { type Decision, checkPrefix, recordDecisions } from "../rounds/annotate.js";
import { RunLock } from "../store/lock.js";
import { RunStores } from "../store/stores.js";
import type { PageView } from "../report/data.js";
import { prefixSamples, reviewHosts } from "./data.js";
import { reviewHtml } from "./page.js";

/**
 * `mathcorpus review`: a local web server for annotating URL prefixes. It binds to 127.0.0.1
 * unless told otherwise and answers only requests whose Host is its own address (no DNS
 * rebinding). Every state-changing request must carry the session's token (in the page it
 * serves, sent back as X-Review-Token) and must not come from another Origin. A decision takes the
 * run's lock for the moment it writes, so while a round holds the lock it is refused with a
 * message, never queued behind the round.
 */

export interface ReviewOptions {
  runDir: string;
  /** The run as the user named it (shown on the page). */
  shown: string;
  host: string;
  port: number;
  annotator: string;
  /** A fixed round; default: the last finished one at each request. */
  round?: number;
  /** Hosts per page. */
  hostsPerPage: number;
  /** Sample pages per prefix: unselected (would become seeds) and selected. */
  samples: { unselected: number; selected: number };
  logger?: Logger;
}

export interface ReviewServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;
const MAX_NOTE = 1000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
    ...headers,
  });
  res.end(body);
}

const json = (res: http.ServerResponse, status: number, body: unknown) => send(res, status, "application/json; charset=utf-8", JSON.stringify(body));

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Who holds the run's lock, as a sentence for the page (null when nobody does). */
function busyMessage(runDir: string): string | null {
  const h = RunLock.holder(runDir);
  if (!h) return null;
  return `A ${h.command || "mathcorpus"} process (pid ${h.pid}${h.host ? ` on ${h.host}` : ""}, since ${h.started}) holds this run: decisions are refused until it ends. Reload the page then.`;
}

export async function startReview(o: ReviewOptions): Promise<ReviewServer> {
  const token = crypto.randomBytes(24).toString("base64url");
  const tokenBuf = Buffer.from(token);
  let origins = new Set<string>();
  let hosts = new Set<string>();

  const roundOf = (stores: RunStores) => stores.coord.finishedRound(o.shown, o.round, "to review");

  function page(url: URL): { html: string; csp: string } {
    const stores = RunStores.openRun(o.runDir);
    try {
      const round = roundOf(stores);
      const n = Math.max(1, Math.floor(Number(url.searchParams.get("page") ?? "1")) || 1);
      const { hosts: list, total, undecided } = reviewHosts(stores, round, (n - 1) * o.hostsPerPage, o.hostsPerPage);
      const samples = new Map<string, PageView[]>();
      for (const h of list) for (const p of h.prefixes) samples.set(p.prefix, prefixSamples(stores, round, p.prefix, o.samples.unselected, o.samples.selected));
      const nonce = crypto.randomBytes(16).toString("base64");
      const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; font-src data:; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'`;
      const view = { run: o.shown, round, annotator: o.annotator, hosts: list, total, undecided, page: n, pages: Math.max(1, Math.ceil(total / o.hostsPerPage)), samples, busy: busyMessage(o.runDir), token };
      return { html: reviewHtml(view, nonce, csp), csp };
    } finally {
      stores.close();
    }
  }

  /** Refuses a state-changing request without the token or from another origin. */
  function checkWrite(req: http.IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin)) throw new HttpError(403, `refused: a request from another origin (${origin})`);
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none") throw new HttpError(403, `refused: a ${site} request`);
    const given = req.headers["x-review-token"];
    const buf = Buffer.from(typeof given === "string" ? given : "");
    if (buf.length !== tokenBuf.length || !crypto.timingSafeEqual(buf, tokenBuf)) throw new HttpError(403, "refused: missing or wrong session token (reload the review page)");
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "expected a JSON body (content-type: application/json)");
  }

  async function decide(req: http.IncomingMessage): Promise<Record<string, unknown>> {
    checkWrite(req);
    let body: { prefix?: unknown; decision?: unknown; note?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, "the body is not JSON");
    }
    if (typeof body.prefix !== "string" || (body.decision !== "accept" && body.decision !== "reject")) throw new HttpError(400, 'expected {"prefix": "...", "decision": "accept" | "reject", "note"?: "..."}');
    const note = typeof body.note === "string" ? body.note.trim() : "";
    if (note.length > MAX_NOTE) throw new HttpError(400, `the note is over ${MAX_NOTE} characters`);
    let prefix: string;
    try {
      prefix = checkPrefix(body.prefix);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    let lock: RunLock;
    try {
      lock = RunLock.acquire(o.runDir, "review");
    } catch (err) {
      if (err instanceof UsageError) throw new HttpError(409, `not recorded: ${busyMessage(o.runDir) ?? err.message}`);
      throw err;
    }
    try {
      const stores = RunStores.openRun(o.runDir);
      try {
        const round = roundOf(stores);
        const known = stores.coord.db.prepare("SELECT 1 FROM prefix_stats WHERE round = ? AND prefix = ?").get(round, prefix) !== undefined;
        if (!known) throw new HttpError(400, `${prefix} is not among round ${round}'s prefixes of math-related hosts`);
        const at = recordDecisions(stores.coord, [{ prefix, decision: body.decision as Decision, note }], o.annotator, round);
        o.logger?.log("info", "review_decision", { prefix, decision: body.decision, who: o.annotator, round });
        return { prefix, decision: body.decision, who: o.annotator, at, round, note };
      } finally {
        stores.close();
      }
    } finally {
      lock.release();
    }
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const host = req.headers.host ?? "";
        if (!hosts.has(host.toLowerCase())) throw new HttpError(421, `refused: Host ${JSON.stringify(host)} is not this server's address`);
        const url = new URL(req.url ?? "/", `http://${host}`);
        if (url.pathname === "/" && (req.method === "GET" || req.method === "HEAD")) {
          const p = page(url);
          send(res, 200, "text/html; charset=utf-8", req.method === "HEAD" ? "" : p.html, { "content-security-policy": `${p.csp}; frame-ancestors 'none'` });
        } else if (url.pathname === "/api/decision") {
          if (req.method !== "POST") throw new HttpError(405, "POST a decision here");
          json(res, 200, await decide(req));
        } else if (url.pathname === "/favicon.ico") {
          send(res, 204, "text/plain", "");
        } else {
          throw new HttpError(404, "not found");
        }
      } catch (err) {
        // a run with no finished round (or one whose stores cannot be read) is said as such, not as a crash
        const status = err instanceof HttpError ? err.status : err instanceof MathcorpusError ? 409 : 500;
        if (status === 500) o.logger?.log("error", "review_error", { error: (err as Error).message });
        if (!res.headersSent) json(res, status, { error: (err as Error).message });
        else res.end();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new UsageError(`review: port ${o.port} on ${o.host} is in use: pick another with --port (0 picks a free one)`) : err.code === "EADDRNOTAVAIL" ? new UsageError(`review: --host ${o.host} is not an address of this machine`) : err),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const bracket = (h: string) => (h.includes(":") ? `[${h}]` : h);
  const shownHost = bracket(o.host);
  // the names this server answers to: the address it binds, and for a wildcard every address of this machine and its name
  const names = new Set([o.host]);
  if (["127.0.0.1", "::1", "localhost", "0.0.0.0", "::"].includes(o.host)) for (const h of ["localhost", "127.0.0.1", "::1"]) names.add(h);
  if (o.host === "0.0.0.0" || o.host === "::") {
    names.add(os.hostname());
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) names.add(a.address);
  }
  hosts = new Set([...names].map((h) => `${bracket(h)}:${port}`.toLowerCase()));
  origins = new Set([...hosts].map((h) => `http://${h}`));
  return {
    url: `http://${o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : shownHost}:${port}/`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
