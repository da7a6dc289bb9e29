"""The router's steps through the C API equal the CLI's: build-data, train and report.

usage: python route_faces.py BREADTH_BINARY TEST_CAPI_ROUTE_STEPS FIXTURE_DIR

Runs route_steps.c (breadth_routing_data_build, breadth_router_train, breadth_routing_report) and the
same steps through `breadth route build-data / train / report` with the same options on the tiny
model pool of tests/routing_pipeline (make_router_pool.py), each face with its own feature cache,
and compares what they write byte for byte: the routing table, the features file, each router's
router.json and weights (and the BERT router's fine-tuned encoder), and the report's JSON (the file
the C call writes, the text it returns, and what the CLI prints) and Markdown.
"""
import json
import os
import subprocess
import sys
import tempfile

CLI, CAPI, FIX = sys.argv[1], sys.argv[2], sys.argv[3]
MODELS = [os.path.join(FIX, "pool", n) for n in ("alpha", "beta", "gamma")]
ENCODER = os.path.join(FIX, "encoder")


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout


def same_bytes(a, b, what):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        if fa.read() != fb.read():
            sys.exit(f"FAILED: {what}: {a} and {b} differ")


def main():
    tmp = tempfile.mkdtemp(prefix="route-faces-", dir=os.environ.get("BREADTH_BINARY_DIR"))
    c_dir, cli_dir = os.path.join(tmp, "c"), os.path.join(tmp, "cli")
    os.makedirs(c_dir)
    os.makedirs(cli_dir)
    run(CAPI, FIX, c_dir)

    o = lambda n: os.path.join(cli_dir, n)  # noqa: E731
    table, spec, cache = o("table.jsonl"), o("spec.safetensors"), o("cache")
    ms = [a for m in MODELS for a in ("--model", m)]
    out = run(CLI, "route", "build-data", "--prompts", os.path.join(FIX, "prompts.jsonl"), "--limit", "20", "--out",
              table, "--budget", "3", "--strategy", "one", "--question-kind", "fixed", "--equivalence", "exact",
              "--max-new-tokens", "8", "--batch", "3", "--max-generations", "6", "--seed", "7", "--features-out",
              spec, "--features", "specific", "--feature-cache", cache, *ms)
    if "60 cells computed" not in out:
        sys.exit("FAILED: CLI build-data: " + out)
    grid = ["--hidden", "16", "--weight-decay", "0"]
    run(CLI, "route", "train", "--data", table, "--features", "specific", *ms, "--feature-cache", cache, *grid,
        "--epochs", "20", "--patience", "5", "--seed", "3", "--out", o("r-spec"))
    run(CLI, "route", "train", "--data", table, "--kind", "knn", "--encoder", ENCODER, "--feature-cache", cache,
        "--k", "1", "--out", o("r-knn"))
    run(CLI, "route", "train", "--data", table, "--kind", "bert", "--encoder", ENCODER, "--bert-epochs", "2",
        "--labels", "soft", "--seed", "3", "--out", o("r-bert"))
    printed = run(CLI, "route", "report", "--data", table, "--features", "specific", "--features-file", spec,
                  "--seeds", "1", "--budget", "3", *grid, "--labels", "soft", "--epochs", "5", "--json",
                  "--json-out", o("report.json"), "--markdown-out", o("report.md"))

    c = lambda n: os.path.join(c_dir, n)  # noqa: E731
    same_bytes(c("table.jsonl"), table, "build-data's routing table")
    with open(table) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    if len(rows) != 60 or not all(len(r["answers"]) <= 3 for r in rows):
        sys.exit(f"FAILED: 60 rows of at most 3 answers, got {len(rows)}")
    same_bytes(c("spec.safetensors"), spec, "build-data's features file")
    for r in ("r-spec", "r-knn", "r-bert"):
        for f in ("router.json", "weights.safetensors"):
            same_bytes(c(os.path.join(r, f)), o(os.path.join(r, f)), f"{r}/{f}")
    same_bytes(c("r-bert/encoder/model.safetensors"), o("r-bert/encoder/model.safetensors"), "bert's encoder")
    if json.load(open(o("r-spec/router.json")))["kind"] != "binary_mlp":
        sys.exit("FAILED: r-spec is a binary MLP")
    same_bytes(c("report.json"), o("report.json"), "report JSON file")
    same_bytes(c("report.md"), o("report.md"), "report Markdown file")
    with open(c("report-returned.json")) as f:
        returned = f.read()
    if returned + "\n" != printed:
        sys.exit("FAILED: the JSON breadth_routing_report returns differs from `route report --json`")
    rep = json.loads(returned)
    if rep.get("test_queries") != 4 or not rep.get("rows"):
        sys.exit("FAILED: report on the 4 test queries with rows: " + returned[:300])
    print("C API and CLI wrote the same table, features, routers and report")


if __name__ == "__main__":
    main()
