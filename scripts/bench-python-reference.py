#!/usr/bin/env python3
"""The issue's reference for round 1's speed: "a plain Python pipeline of warcio + lxml + fastText"
(issue #5 puts it at ~16x gunzip on one core), measured here on the same file as
scripts/bench-round.ts, beside Python's own gunzip (zlib) and the `gunzip` command.

    python3 scripts/bench-python-reference.py FILE.warc.gz MODEL.bin

Needs lxml and fastText's Python module (Debian: apt-get install python3-lxml python3-fasttext,
then run it with /usr/bin/python3). warcio is not in Debian; records are read by a minimal
member-by-member reader here instead (zlib, one gzip member per record as Common Crawl writes),
which does less than warcio does, so the pipeline's time is a lower bound for warcio + lxml +
fastText. Per HTML response: lxml parses the body, script and style are dropped, the text is
taken (text_content, whitespace collapsed), pages under 200 characters are dropped and the
model predicts the rest (MODEL: any fastText model, e.g. a run's models/round-1/model.bin).
"""
import re
import subprocess
import sys
import time
import zlib

import fasttext
import lxml.html

fasttext.FastText.eprint = lambda *a, **k: None  # its load_model warning


def members(f, chunk=1 << 20):
    """The decompressed gzip members of a file, one by one."""
    d = zlib.decompressobj(31)
    out = []
    while True:
        data = f.read(chunk)
        if not data:
            break
        while data:
            out.append(d.decompress(data))
            if d.eof:
                yield b"".join(out)
                out = []
                data = d.unused_data
                d = zlib.decompressobj(31)
            else:
                data = b""
    if out:
        yield b"".join(out)


def main(path, model_path):
    t0 = time.time()
    with open(path, "rb") as f:
        for _ in members(f):
            pass
    t_gunzip = time.time() - t0
    t0 = time.time()
    subprocess.run(["gunzip", "-c", path], stdout=subprocess.DEVNULL, check=True)
    t_command = time.time() - t0
    model = fasttext.load_model(model_path)
    t0 = time.time()
    pages = kept = 0
    with open(path, "rb") as f:
        for m in members(f):
            head, _, rest = m.partition(b"\r\n\r\n")
            if b"WARC-Type: response" not in head:
                continue
            http_head, _, body = rest.partition(b"\r\n\r\n")
            if not re.search(rb"(?i)content-type:\s*text/html", http_head):
                continue
            pages += 1
            try:
                doc = lxml.html.document_fromstring(body)
            except Exception:
                continue
            for bad in doc.xpath("//script|//style"):
                bad.drop_tree()
            text = " ".join(doc.text_content().split())
            if len(text) < 200:
                continue
            kept += 1
            model.predict(text)
    t_pipe = time.time() - t0
    print(
        f"gunzip: Python's zlib {t_gunzip:.2f} s, the gunzip command {t_command:.2f} s; "
        f"pipeline {t_pipe:.1f} s for {pages} HTML pages ({kept} predicted) on one core = "
        f"{t_pipe / t_gunzip:.1f}x Python's gunzip = {t_pipe / t_command:.1f}x the gunzip command"
    )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
