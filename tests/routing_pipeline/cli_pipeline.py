"""`breadth route build-data / train / eval / pick` on the tiny model pool (make_router_pool.py).

usage: python cli_pipeline.py BREADTH_BINARY FIXTURE_DIR

Builds a routing table from three tiny chat models over 30 NoveltyBench prompts (with specific and
agnostic features files), interrupts and resumes it, trains routers from model-computed features and
from the features file (which must give the same router), evaluates one and picks routes for a new
prompt; checks the JSON each step prints or writes.
"""
import json
import os
import subprocess
import sys
import tempfile

BIN, FIX = sys.argv[1], sys.argv[2]
POOL = ["alpha", "beta", "gamma"]
MODELS = [a for n in POOL for a in ("--model", os.path.join(FIX, "pool", n))]
ENCODER = os.path.join(FIX, "encoder")


def run(*args):
    p = subprocess.run([BIN, "route", *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"breadth route {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.stdout


def rows(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)


def main():
    tmp = tempfile.mkdtemp(prefix="route-cli-", dir=os.environ.get("BREADTH_BINARY_DIR"))
    table, spec_f, agn_f = (os.path.join(tmp, n) for n in ("table.jsonl", "spec.safetensors", "agn.safetensors"))
    cache = os.path.join(tmp, "cache")
    common = ["--prompts", os.path.join(FIX, "prompts.jsonl"), "--limit", "30", "--out", table, "--budget", "3",
              "--strategy", "one", "--question-kind", "fixed", "--equivalence", "exact", "--max-new-tokens", "8",
              "--batch", "3", "--max-generations", "6", "--seed", "7", "--feature-cache", cache, *MODELS]
    out = run("build-data", *common, "--features-out", spec_f, "--features", "specific")
    check("90 cells computed" in out, "first build-data computes all 90 cells: " + out)
    full = rows(table)
    check(len(full) == 90, f"90 rows, got {len(full)}")
    check({(r["query_id"], r["model"]) for r in full} == {(r["query_id"], m) for r in full for m in POOL},
          "every (query, model) cell once")
    for r in full:
        check(set(r) >= {"query_id", "query", "model", "div_cov", "unq", "qual", "unq_qual", "answers"},
              "row keys: " + str(sorted(r)))
        check(len(r["answers"]) <= 3 and abs(r["div_cov"] - r["unq"] / 3) < 1e-9, "figures of " + json.dumps(r))
    check(os.path.getsize(spec_f) > 0, "specific features file written")

    # Interrupted run: 50 rows kept plus a line cut mid-write; the rerun adds exactly the 40 missing cells.
    with open(table) as f:
        lines = f.readlines()
    with open(table, "w") as f:
        f.writelines(lines[:50])
        f.write(lines[50][: len(lines[50]) // 2])
    out = run("build-data", *common, "--features-out", agn_f, "--features", "agnostic", "--encoder", ENCODER)
    check("40 cells computed" in out, "resumed build-data computes the 40 missing cells: " + out)
    again = rows(table)
    check(len(again) == 90, f"90 rows after resuming, got {len(again)}")
    key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
    check(sorted(map(key, again)) == sorted(map(key, full)), "resumed rows equal the uninterrupted run's")

    # Train from the models (features computed, cached) and from the features file: the same router.
    grid = ["--hidden", "16", "--weight-decay", "0", "--epochs", "20", "--patience", "5", "--seed", "3"]
    r_models, r_file = os.path.join(tmp, "r-models"), os.path.join(tmp, "r-file")
    run("train", "--data", table, "--features", "specific", *MODELS, "--feature-cache", cache, "--out", r_models, *grid)
    run("train", "--data", table, "--features", "specific", "--features-file", spec_f, "--out", r_file, *grid)
    cfg = json.load(open(os.path.join(r_models, "router.json")))
    check(cfg["pool"] == POOL, "router pool " + str(cfg.get("pool")))
    with open(os.path.join(r_models, "weights.safetensors"), "rb") as a, \
            open(os.path.join(r_file, "weights.safetensors"), "rb") as b:
        check(a.read() == b.read(), "model-computed features and the features file train the same router")

    ev = json.loads(run("eval", "--router", r_models, "--data", table, *MODELS, "--feature-cache", cache,
                        "--budget", "3", "--json"))
    check(isinstance(ev, dict) and ev.get("rows"), "eval JSON has rows: " + json.dumps(ev)[:300])
    check(ev.get("test_queries") == 6, "eval on the 6 test-split queries")

    pick = json.loads(run("pick", "--router", r_models, "--prompt", "Name a famous painter.", *MODELS,
                          "--feature-cache", cache, "--top-k", "2", "--budget", "3", "--json"))
    check(len(pick["models"]) == 2 and set(pick["models"]) <= set(POOL) and sum(pick["budgets"]) == 3,
          "pick: " + json.dumps(pick))

    # Agnostic: KNN on the encoder's features, picked for a new prompt through --encoder.
    r_agn = os.path.join(tmp, "r-agn")
    run("train", "--data", table, "--features", "agnostic", "--encoder", ENCODER, "--feature-cache", cache,
        "--kind", "knn", "--k", "1", "--out", r_agn)
    pick = json.loads(run("pick", "--router", r_agn, "--prompt", "Name a famous painter.", "--encoder", ENCODER,
                          "--feature-cache", cache, "--json"))
    check(len(pick["models"]) == 1 and pick["models"][0] in POOL, "agnostic pick: " + json.dumps(pick))
    ev = json.loads(run("eval", "--router", r_agn, "--data", table, "--features-file", agn_f, "--all", "--budget",
                        "3", "--json"))
    check(ev.get("test_queries") == 30, "eval --all on every query")

    # The fine-tuned BERT router: trained from the query texts (no features), saved with its encoder,
    # reproducible from its seed, routing texts; Table 3's BERT row in the report.
    bert = ["--kind", "bert", "--encoder", ENCODER, "--bert-epochs", "2", "--labels", "soft", "--seed", "3"]
    r_bert, r_bert2 = os.path.join(tmp, "r-bert"), os.path.join(tmp, "r-bert2")
    run("train", "--data", table, *bert, "--out", r_bert)
    run("train", "--data", table, *bert, "--out", r_bert2)
    check(json.load(open(os.path.join(r_bert, "router.json")))["kind"] == "bert", "bert router.json kind")
    for f in ("weights.safetensors", "encoder/model.safetensors"):
        with open(os.path.join(r_bert, f), "rb") as a, open(os.path.join(r_bert2, f), "rb") as b:
            check(a.read() == b.read(), f"same seed, same bert {f}")
    pick = json.loads(run("pick", "--router", r_bert, "--prompt", "Name a famous painter.", "--top-k", "3", "--json"))
    check(sorted(pick["models"]) == sorted(POOL) and abs(sum(pick["scores"]) - 1) < 1e-6
          and pick["scores"] == sorted(pick["scores"], reverse=True), "bert pick: " + json.dumps(pick))
    ev = json.loads(run("eval", "--router", r_bert, "--data", table, "--all", "--budget", "3", "--json"))
    check(ev.get("best_router") == "bert", "bert eval row: " + str(ev.get("best_router")))
    rep = json.loads(run("report", "--data", table, "--features-file", agn_f, "--seeds", "1", "--hidden", "8",
                         "--weight-decay", "0", "--labels", "soft", "--epochs", "5", "--bert-encoder", ENCODER,
                         "--bert-epochs", "1", "--budget", "3", "--json"))
    methods = [r["method"] for r in rep["rows"]]
    check("BERT (fine-tuned)" in methods and "BERT (fine-tuned) top-2" in methods, "report rows: " + str(methods))
    print("ok")


if __name__ == "__main__":
    main()
