"""Builds the benchmark input: 100 queries x 50 short answers, from NoveltyBench's real
gemini-1.5-pro generations (each generation split into sentences/lines, markdown stripped, the
pieces of a query's 10 generations cycled to 50), written as breadth eval JSONL.

Usage: python make_answer_sets.py SHARED_DIR OUT.jsonl
"""
import json
import re
import sys

shared, out = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(f"{shared}/data/noveltybench/gemini-1.5-pro-curated-scores.jsonl")]
with open(out, "w") as f:
    for r in rows:
        pieces = []
        for g in r["generations"]:
            for part in re.split(r"\n+|(?<=[.!?])\s+", g):
                part = re.sub(r"[*#>`_]+", "", part).strip(" -\t")
                if len(part.split()) >= 2:
                    pieces.append(part)
        if not pieces:
            pieces = [g.strip() or "empty" for g in r["generations"]]
        answers = [pieces[i % len(pieces)] for i in range(50)]
        f.write(json.dumps({"id": r["id"], "prompt": r["prompt"], "generations": answers}) + "\n")
