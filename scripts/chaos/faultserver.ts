import http from "node:http";
import type { AddressInfo } from "node:net";

/** What the loopback server does wrong, per path; each list is consumed one request at a time. */
export interface Faults {
  /** Statuses answered (with an XML body) before the file is served, e.g. [503, 503, 429]. */
  statuses?: number[];
  /** For successive requests: destroy the socket after sending this many body bytes. */
  resetAfter?: number[];
  /** For successive requests: stop sending for `ms` after `bytes` body bytes. */
  stallAfter?: Array<{ bytes: number; ms: number }>;
  /** Answer Range requests with the whole file (200). */
  ignoreRange?: boolean;
  /** Content type of the file; an HTML type turns it into an "error page". */
  contentType?: string;
  /** Change the ETag after the first request (the file "changed"). */
  changeEtag?: boolean;
  /**
   * For successive requests: send no Content-Length, then close the connection cleanly after this
   * many body bytes (to the client, an HTTP/1.1 body without a length ends when the connection does).
   */
  closeEarly?: number[];
  /** Answer every request without Content-Length (the body ends with the connection). */
  noLength?: boolean;
  /** For successive requests: wait this many ms before sending the status line and headers. */
  stallHeaders?: number[];
}

export interface RequestLog {
  path: string;
  range: string | undefined;
  status: number;
}

export interface FaultServer {
  url: string;
  requests: RequestLog[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 serving `files` with injected faults. */
export async function startFaultServer(files: Map<string, Buffer>, faults: Map<string, Faults> = new Map()): Promise<FaultServer> {
  const requests: RequestLog[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const served = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const f0 = faults.get((req.url ?? "/").split("?")[0]!);
    const wait = f0?.stallHeaders?.shift();
    if (wait !== undefined) {
      const t = setTimeout(() => handle(req, res), wait);
      res.on("close", () => clearTimeout(t));
      return;
    }
    handle(req, res);
  });
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const f = faults.get(path) ?? {};
    const body = files.get(path);
    const log = (status: number) => requests.push({ path, range: req.headers.range, status });
    const n = served.get(path) ?? 0;
    served.set(path, n + 1);
    const forced = f.statuses?.shift();
    if (forced !== undefined) {
      log(forced);
      res.writeHead(forced, { "content-type": "application/xml", "retry-after": "0" });
      res.end(`<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`);
      return;
    }
    if (!body) {
      log(404);
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<html><body>Not Found</body></html>");
      return;
    }
    const etag = f.changeEtag && n > 0 ? `"v2"` : `"v1"`;
    let start = 0;
    // "bytes=N-" (to the end) or "bytes=N-M" (M inclusive, as a page fetched back by its offset and length)
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    let end = body ? body.length : 0;
    if (m && !f.ignoreRange) {
      start = Number(m[1]);
      if (m[2]) end = Math.min(end, Number(m[2]) + 1);
    }
    if (start >= body.length && m) {
      log(416);
      res.writeHead(416, { "content-range": `bytes */${body.length}` });
      res.end();
      return;
    }
    const status = m && !f.ignoreRange ? 206 : 200;
    log(status);
    const headers: Record<string, string> = {
      "content-type": f.contentType ?? "application/octet-stream",
      "content-length": String(end - start),
      "accept-ranges": "bytes",
      etag,
    };
    if (status === 206) headers["content-range"] = `bytes ${start}-${end - 1}/${body.length}`;
    res.writeHead(status, headers);
    const early = f.closeEarly?.shift();
    if (early !== undefined || f.noLength) {
      const part = body.subarray(start, end);
      const head = [`HTTP/1.1 ${status} ${status === 206 ? "Partial Content" : "OK"}`, `content-type: ${headers["content-type"]}`, "accept-ranges: bytes", `etag: ${etag}`, "connection: close"];
      if (status === 206) head.push(`content-range: ${headers["content-range"]}`);
      const sock = res.socket!;
      sock.write(`${head.join("\r\n")}\r\n\r\n`);
      sock.end(part.subarray(0, early ?? part.length));
      return;
    }
    const reset = f.resetAfter?.shift();
    const stall = f.stallAfter?.shift();
    const part = body.subarray(start, end);
    if (reset !== undefined) {
      res.write(part.subarray(0, reset), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (stall !== undefined) {
      res.write(part.subarray(0, stall.bytes));
      const t = setTimeout(() => res.end(part.subarray(stall.bytes)), stall.ms);
      res.on("close", () => clearTimeout(t));
      return;
    }
    res.end(part);
  };
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
