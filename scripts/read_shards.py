#!/usr/bin/env python3
"""Read mathcorpus SQLite shards with the standard library only.

Document k of the shard set (shards in manifest order, rows in rowid order) belongs to rank
k % world, so each data-loader worker (rank) of `world` reads a disjoint part. A PyTorch
IterableDataset can wrap `iter_documents` (use torch's worker info for rank/world).

    python3 read_shards.py DIR [--rank R] [--world W] [--fields id,sha256]   # JSON lines
"""
import argparse
import json
import os
import sqlite3
import sys

COLUMNS = ("id", "text", "url", "domain", "lang", "score", "round", "tokens", "sha256")


def iter_documents(directory, rank=0, world=1, start=(0, 0)):
    """Yields dicts of one rank's documents; `start` = (shard index, last rowid read) resumes."""
    if not (world >= 1 and 0 <= rank < world):
        raise ValueError(f"rank {rank} / world {world}")
    with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    offset = 0
    for i, shard in enumerate(manifest["shards"]):
        if i < start[0]:
            offset += shard["docs"]
            continue
        last = start[1] if i == start[0] else 0
        con = sqlite3.connect(f"file:{os.path.join(directory, shard['file'])}?mode=ro", uri=True)
        try:
            while True:
                rows = con.execute(
                    "SELECT rowid, " + ", ".join(COLUMNS) + " FROM documents WHERE rowid > ? AND ((? + rowid - 1) % ?) = ? ORDER BY rowid LIMIT 512",
                    (last, offset, world, rank),
                ).fetchall()
                if not rows:
                    break
                for row in rows:
                    last = row[0]
                    doc = dict(zip(COLUMNS, row[1:]))
                    doc["_position"] = (i, last)
                    yield doc
        finally:
            con.close()
        offset += shard["docs"]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir")
    p.add_argument("--rank", type=int, default=0)
    p.add_argument("--world", type=int, default=1)
    p.add_argument("--fields", default="id,sha256", help="comma-separated columns to print")
    a = p.parse_args(argv)
    fields = a.fields.split(",")
    out = sys.stdout
    for doc in iter_documents(a.dir, a.rank, a.world):
        out.write(json.dumps({k: doc[k] for k in fields}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except BrokenPipeError:  # `| head`
        sys.stderr.close()
