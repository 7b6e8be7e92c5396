#!/usr/bin/env python3
# Copied unchanged (below this line) from the shared tools (make-cc-warc.py) so that tests can build a
# Common-Crawl-style crawl from the bundled pages on a fresh clone (test/rounds/pool-recall.test.ts).
"""Pack real HTML pages (JSONL with `html` and `url`) into a WARC.gz laid out like a Common Crawl file.

Common Crawl WARC layout reproduced here: one gzip member per record; a warcinfo record first; then for
every page a request, a response (HTTP/1.1 header block + payload, with CC's X-Crawler-* headers) and a
metadata record; WARC/1.0 headers with WARC-Target-URI, WARC-Identified-Payload-Type, sha1 digests in
base32. The page bytes are the real pages from the JSONL files; only the container is made here.

  make-cc-warc.py OUT.warc.gz IN.jsonl[.gz] [IN2 ...] [--pages N] [--seed S] [--math-share F]
                  [--vary-urls] [--non-html-share F]

--pages N        write N pages, cycling through the inputs (default: every input page once)
--math-share F   fraction of pages drawn from inputs whose records have label "math" (default: natural mix)
--vary-urls      when cycling past the end of the inputs, give repeats a distinct URL (?cc_copy=K) so that
                 throughput tests are not shortened by URL dedup; repeated bodies stay exact duplicates
--non-html-share F  fraction of extra non-HTML responses (robots.txt-like text/plain, a small PDF-like
                 application/octet-stream blob) that a pipeline must skip (default 0.02)
Deterministic for a given seed. Standard library only.
"""
import base64
import gzip
import hashlib
import io
import json
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone


def read_jsonl(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                rec = json.loads(line)
                if rec.get("html"):
                    yield rec


def sha1_b32(data):
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def record(fields, block):
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + f"Content-Length: {len(block)}\r\n\r\n"
    raw = head.encode() + block + b"\r\n\r\n"
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
        g.write(raw)
    return buf.getvalue()


def no_url(page):
    """A page without a recorded URL gets a stable host of its own under the reserved .invalid TLD."""
    h = hashlib.sha1(page["id"].encode()).hexdigest()
    return f"https://site-{h[:8]}.invalid/{h[8:16]}.html"


def rid(rng):
    return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"


def main(argv):
    args = {"--pages": None, "--seed": "1", "--math-share": None, "--non-html-share": "0.02"}
    flags = set()
    paths = []
    it = iter(argv)
    for a in it:
        if a in args:
            args[a] = next(it)
        elif a == "--vary-urls":
            flags.add(a)
        else:
            paths.append(a)
    if len(paths) < 2:
        sys.exit(__doc__)
    out, inputs = paths[0], paths[1:]
    rng = random.Random(int(args["--seed"]))
    pages = [p for path in inputs for p in read_jsonl(path)]
    if not pages:
        sys.exit("no records with an html field in the inputs")
    math = [p for p in pages if p.get("label") == "math"]
    web = [p for p in pages if p.get("label") != "math"]
    n = int(args["--pages"]) if args["--pages"] else len(pages)
    share = args["--math-share"]
    order = []
    if share is None:
        base = pages[:]
        rng.shuffle(base)
        order = [base[i % len(base)] for i in range(n)]
    else:
        f = float(share)
        mi = wi = 0
        rng.shuffle(math)
        rng.shuffle(web)
        for _ in range(n):
            if math and (not web or rng.random() < f):
                order.append(math[mi % len(math)]); mi += 1
            else:
                order.append(web[wi % len(web)]); wi += 1
    seen = {}
    t = datetime(2024, 5, 18, 0, 0, 0, tzinfo=timezone.utc)
    name = out.rsplit("/", 1)[-1]
    info_id = rid(rng)
    non_html = float(args["--non-html-share"])
    with open(out, "wb") as f:
        info = (
            "isPartOf: CC-MAIN-2024-22\r\npublisher: Common Crawl\r\n"
            "software: Apache Nutch 1.19 (modified, https://github.com/commoncrawl/nutch/)\r\n"
            "format: WARC File Format 1.1\r\n"
            "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
        ).encode()
        f.write(record([("WARC-Type", "warcinfo"), ("WARC-Date", t.strftime("%Y-%m-%dT%H:%M:%SZ")),
                        ("WARC-Record-ID", info_id), ("Content-Type", "application/warc-fields"),
                        ("WARC-Filename", name)], info))
        for i, page in enumerate(order):
            url = (page.get("url") or no_url(page)).strip().replace(" ", "%20")
            k = seen.get(url, 0)
            seen[url] = k + 1
            if k and "--vary-urls" in flags:
                url += ("&" if "?" in url else "?") + f"cc_copy={k}"
            t += timedelta(milliseconds=rng.randint(50, 900))
            date = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            host = url.split("/")[2] if "://" in url else "pages.invalid"
            path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
            ip = ".".join(str(rng.randint(1, 254)) for _ in range(4))
            body = page["html"].encode("utf-8")
            ctype = "text/html; charset=UTF-8"
            ident = "text/html"
            r = rng.random()
            if r < non_html / 2:
                body, ctype, ident = b"User-agent: *\nDisallow: /private/\n", "text/plain", "text/plain"
            elif r < non_html:
                body = bytes(rng.getrandbits(8) for _ in range(2048))
                ctype, ident = "application/pdf", "application/pdf"
            req_id, resp_id = rid(rng), rid(rng)
            req = (f"GET {path} HTTP/1.1\r\nUser-Agent: CCBot/2.0 (https://commoncrawl.org/faq/)\r\n"
                   f"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                   f"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: br,gzip\r\nHost: {host}\r\n"
                   f"Connection: Keep-Alive\r\n\r\n").encode()
            f.write(record([("WARC-Type", "request"), ("WARC-Date", date), ("WARC-Record-ID", req_id),
                            ("Content-Type", "application/http; msgtype=request"),
                            ("WARC-Warcinfo-ID", info_id), ("WARC-IP-Address", ip),
                            ("WARC-Target-URI", url)], req))
            http = (f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nX-Crawler-Content-Encoding: gzip\r\n"
                    f"Vary: Accept-Encoding\r\nDate: {t.strftime('%a, %d %b %Y %H:%M:%S GMT')}\r\n"
                    f"X-Crawler-Content-Length: {len(body) // 3 + 1}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            block = http + body
            f.write(record([("WARC-Type", "response"), ("WARC-Date", date), ("WARC-Record-ID", resp_id),
                            ("Content-Type", "application/http; msgtype=response"),
                            ("WARC-Warcinfo-ID", info_id), ("WARC-Concurrent-To", req_id),
                            ("WARC-IP-Address", ip), ("WARC-Target-URI", url),
                            ("WARC-Payload-Digest", sha1_b32(body)), ("WARC-Block-Digest", sha1_b32(block)),
                            ("WARC-Identified-Payload-Type", ident)], block))
            meta = f"fetchTimeMs: {rng.randint(40, 3000)}\r\ncharset-detected: UTF-8\r\n".encode()
            f.write(record([("WARC-Type", "metadata"), ("WARC-Date", date), ("WARC-Record-ID", rid(rng)),
                            ("Content-Type", "application/warc-fields"), ("WARC-Warcinfo-ID", info_id),
                            ("WARC-Concurrent-To", resp_id), ("WARC-Target-URI", url)], meta))
    print(f"{out}: {len(order)} pages", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
