"""Whole experiments on the tiny model pool (tests/routing_pipeline/make_router_pool.py), through the CLI,
Python and Ray.

Usage: python run_experiments.py BREADTH_BIN ROUTER_POOL_FIXTURE

Checks, each against something independent of the runner:
  * every method kind runs; the files are NoveltyBench's (generations.jsonl, scores.jsonl, summary.json);
  * each point's figures equal `breadth eval` on its own generations.jsonl, and Coverage/Dominance equal
    `breadth pareto` on the same points;
  * defining properties across points: logit ensemble at w = 0 is aligned sampling, a routed prompt gets
    exactly the routed model's own samples (and the model `breadth route pick` names), the response
    ensemble's split, BACO's provenance spells its answers;
  * the report is well-formed HTML with one plot per diversity–quality space;
  * SIGKILL at random moments, then rerun: the files equal an uninterrupted run's, no id twice;
  * shards 0/2 and 1/2 merged with `breadth report` equal the unsharded run;
  * bad input: malformed files and keys, missing prompt file, bad prompt lines (reported, the rest runs),
    an unwritable output folder, a checkpoint that fails to load (its points fail, the others finish);
  * Python: breadth.Experiment(...).run() and breadth.distributed on a local 2-CPU Ray equal the CLI run.
"""

import html.parser
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN, FIX = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
POOL = ["alpha", "beta", "gamma"]
MODELS = {m: os.path.join(FIX, "pool", m) for m in POOL}
ENCODER = os.path.join(FIX, "encoder")
PROMPTS = os.path.join(FIX, "prompts.jsonl")
TMP = tempfile.mkdtemp(prefix="experiment-", dir=os.environ.get("BREADTH_BINARY_DIR"))
FAILURES = []


def check(ok, what):
    if not ok:
        FAILURES.append(what)
        print("FAILED:", what, flush=True)


def cli(*args, ok=True):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    if ok and p.returncode != 0:
        sys.exit(f"breadth {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def write_experiment(name, body):
    path = os.path.join(TMP, name + ".json")
    with open(path, "w") as f:
        json.dump(body, f, indent=1)
    return path


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def tree(d):
    """Every file under d but timing.json (wall times differ between runs), as bytes."""
    out = {}
    for root, _, names in os.walk(d):
        for n in names:
            if n == "timing.json" or n.endswith(".tmp"):
                continue
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = f.read()
    return out


def same_tree(a, b, what):
    ta, tb = tree(a), tree(b)
    check(sorted(ta) == sorted(tb), f"{what}: same files ({sorted(set(ta) ^ set(tb))})")
    for k in sorted(set(ta) & set(tb)):
        check(ta[k] == tb[k], f"{what}: {k} identical")


# ------------------------------------------------------------------------------ a router to route with
def train_router():
    """A 1-NN router on the encoder's features, trained on a table whose best model cycles by query."""
    table = os.path.join(TMP, "table.jsonl")
    prompts = jsonl(PROMPTS)[:30]
    with open(table, "w") as f:
        for q, p in enumerate(prompts):
            for m, name in enumerate(POOL):
                cov = 0.9 if m == q % 3 else 0.2
                f.write(json.dumps({"query_id": p["id"], "query": p["prompt"], "model": name, "div_cov": cov,
                                    "unq": cov * 3, "qual": 1.0, "unq_qual": 1.0}) + "\n")
    router = os.path.join(TMP, "router")
    cli("route", "train", "--data", table, "--features", "agnostic", "--encoder", ENCODER, "--feature-cache",
        os.path.join(TMP, "features"), "--kind", "knn", "--k", "1", "--out", router)
    return router


def every_kind(router):
    return {
        "prompts": PROMPTS, "limit": 6, "n": 4, "max_new_tokens": 10, "seed": 5, "batch_size": 4,
        "models": MODELS,
        "methods": [
            {"name": "s_alpha", "kind": "sample", "model": "alpha", "temperature": [0.7, 1.0]},
            {"name": "s_beta", "kind": "sample", "model": "beta"},
            {"name": "s_gamma", "kind": "sample", "model": "gamma"},
            {"name": "aligned", "kind": "sample", "model": "alpha", "top_p": 0.9},
            {"name": "baco", "kind": "baco", "base": "beta", "aligned": "alpha", "gamma": [0.3, 0.6]},
            {"name": "le", "kind": "logit_ensemble", "base": "beta", "aligned": "alpha", "w": [0, 0.5]},
            {"name": "re", "kind": "response_ensemble", "base": "beta", "aligned": "alpha", "ratio": 0.5},
            {"name": "nudge", "kind": "nudging", "base": "beta", "aligned": "alpha", "threshold": [0.3]},
            {"name": "ic", "kind": "in_context", "model": "alpha"},
            {"name": "para", "kind": "paraphrase", "model": "alpha"},
            {"name": "dbs", "kind": "diverse_beam", "model": "alpha", "groups": 2, "penalty": 0.5},
            {"name": "verb", "kind": "verbalized", "model": "alpha"},
            {"name": "sysv", "kind": "system_vanilla", "model": "alpha"},
            {"name": "route", "kind": "route", "router": router, "encoder": ENCODER},
        ],
        "evaluate": {"equivalence": "noveltybench-shortcut", "quality": "const:1",
                     "metrics": ["distinct_2", "self_bleu"]},
    }


def test_every_kind(router):
    body = every_kind(router)
    path = write_experiment("every-kind", body)
    out = os.path.join(TMP, "every-kind")
    r = cli("run", path, "--out", out)
    check("report.html" in r.stdout, "run prints where the report is")
    exp = json.load(open(os.path.join(out, "experiment.json")))
    points = exp["resolved"]["points"]
    check(len(points) == 17, f"17 points, got {points}")
    ids = [p["id"] for p in jsonl(PROMPTS)[:6]]
    summary = json.load(open(os.path.join(out, "summary.json")))
    gens = {}
    for point in points:
        d = os.path.join(out, point)
        lines = jsonl(os.path.join(d, "generations.jsonl"))
        check([l["id"] for l in lines] == ids, f"{point}: one line per prompt, in prompt order")
        for l in lines:
            check(set(l) >= {"id", "prompt", "model", "generations"} and l["model"] == point,
                  f"{point}: NoveltyBench generation keys")
            check(len(l["generations"]) == 4 and all(isinstance(g, str) for g in l["generations"]),
                  f"{point}: n = 4 generations")
        gens[point] = lines
        scores = jsonl(os.path.join(d, "scores.jsonl"))
        for s in scores:
            check(set(s) >= {"id", "prompt", "model", "generations", "partition", "distinct", "generation_scores",
                             "partition_scores", "utility"}, f"{point}: NoveltyBench score keys")
            check(s["distinct"] == max(s["partition"]), f"{point}: distinct is NoveltyBench's max(partition)")
        nb = json.load(open(os.path.join(d, "summary.json")))
        mean = lambda k: sum(s[k] for s in scores) / len(scores)  # noqa: E731
        check(abs(nb["mean_distinct"] - mean("distinct")) < 1e-12 and abs(nb["mean_utility"] - mean("utility")) < 1e-12,
              f"{point}: NoveltyBench summary means")
        # Figures equal `breadth eval` on the same file.
        ev = json.loads(cli("eval", "--input", os.path.join(d, "generations.jsonl"), "--metrics",
                            "distinct_2,self_bleu", "--json").stdout)["mean"]
        fig = summary["points"][point]
        for k in ("div_cov", "unq", "qual", "unq_qual", "utility", "distinct_2", "self_bleu"):
            check(abs(fig[k] - ev[k]) < 1e-12, f"{point}: {k} {fig[k]} equals breadth eval's {ev[k]}")

    # Defining properties across points.
    check([l["generations"] for l in gens["le@0"]] == [l["generations"] for l in gens["aligned"]],
          "logit ensemble at w = 0 answers as the aligned model sampled alone")
    check([l["generations"] for l in gens["le@0.5"]] != [l["generations"] for l in gens["aligned"]],
          "logit ensemble at w = 0.5 differs from the aligned model alone")
    for l in gens["re"]:
        check(l["sources"] == ["base", "base", "aligned", "aligned"], "response ensemble: n/2 base then n/2 aligned")
    routed = set()
    for q, l in enumerate(gens["route"]):
        m = l.get("routed_to")
        routed.add(m)
        own = "s_alpha@1.0" if m == "alpha" else "s_" + str(m)
        check(m in POOL and l["generations"] == gens[own][q]["generations"],
              f"route: prompt {q} gets {m}'s own samples")
    pick = json.loads(cli("route", "pick", "--router", router, "--prompt", gens["route"][0]["prompt"], "--encoder",
                          ENCODER, "--feature-cache", os.path.join(TMP, "features"), "--json").stdout)
    check(pick["models"][0] == gens["route"][0]["routed_to"], "route: the model `breadth route pick` names")
    check(len(routed) > 1, f"route: the router sends prompts to more than one model ({routed})")
    for point in ("baco@0.3", "baco@0.6", "nudge@0.3"):
        prov = jsonl(os.path.join(out, point, "provenance.jsonl"))
        check(len(prov) == 6, f"{point}: provenance line per prompt")
        for p, l in zip(prov, gens[point]):
            # (Token pieces that split a UTF-8 character are written as U+FFFD each; those answers aside.)
            for s, g in zip(p["samples"], l["generations"]):
                text = "".join(t["text"] for t in s["tokens"])
                if "\ufffd" not in text + g:
                    check(text == g, f"{point}: provenance tokens spell the answer {g!r}")
            check(all(s["tokens"][0]["source"] == "aligned" for s in p["samples"] if s["tokens"]),
                  f"{point}: first token from the aligned model")
    check(summary["points"]["baco@0.6"]["base_share"] >= summary["points"]["baco@0.3"]["base_share"],
          "BACO: a higher γ routes at least as many tokens to base")

    # The report: well-formed, one plot per space.
    check_report(os.path.join(out, "report.html"), [s["name"] for s in summary["spaces"]])

    # Anchors added afterwards (the evaluation may change between runs): Coverage/Dominance equal `breadth pareto`.
    figs = summary["points"]
    lo = min(points, key=lambda p: (figs[p]["mean_words"], p))
    hi = max(points, key=lambda p: (figs[p]["mean_words"], p))
    body["evaluate"]["anchors"] = {"base": lo, "aligned": hi}
    body["evaluate"]["spaces"] = [{"quality": "mean_words", "diversity": "distinct_2"}]
    cli("run", write_experiment("every-kind", body), "--out", out)
    summary = json.load(open(os.path.join(out, "summary.json")))
    space = summary["spaces"][0]
    check("anchors" in space and "not_computed" not in space["controllability"],
          "Coverage/Dominance computed: " + json.dumps(space)[:300])
    methods = {}
    for p in points:
        methods.setdefault(figs[p]["method"], []).append([figs[p]["mean_words"], figs[p]["distinct_2"]])
    spaces = {"name": "s", "base": [figs[lo]["mean_words"], figs[lo]["distinct_2"]],
              "aligned": [figs[hi]["mean_words"], figs[hi]["distinct_2"]], "bound": 1.0, "methods": methods}
    with open(os.path.join(TMP, "spaces.json"), "w") as f:
        json.dump(spaces, f)
    ref = json.loads(cli("pareto", "--input", os.path.join(TMP, "spaces.json"), "--json").stdout)
    ref_methods = ref["spaces"]["s"]
    for name, c in space.get("controllability", {}).items():
        if name == "not_computed":
            continue
        r = ref_methods[name]
        check(abs(c["coverage"] - r["coverage"]) < 1e-12 and abs(c["dominance"] - r["dom"]) < 1e-12,
              f"Coverage/Dominance of {name} equal breadth pareto's")
    return path, out


class _Tags(html.parser.HTMLParser):
    VOID = {"meta", "br", "img", "input", "link", "hr", "rect", "circle", "line", "polyline", "path"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.svgs = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.svgs.append(dict(attrs).get("aria-label"))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()


def check_report(path, spaces):
    text = open(path, encoding="utf-8").read()
    check(text.startswith("<!DOCTYPE html>") and "http://" not in text.replace("http://www.w3.org/2000/svg", ""),
          "report: HTML5, nothing fetched from the network")
    t = _Tags()
    t.feed(text)
    check(not t.errors and not t.stack, f"report: balanced tags ({t.errors[:3]}, open {t.stack[:3]})")
    for s in spaces:
        check(t.svgs.count(s) == 1, f"report: one plot for space {s}")


# ------------------------------------------------------------------------------ kill, resume, shards
def resumable():
    return {
        "prompts": PROMPTS, "limit": 12, "n": 3, "max_new_tokens": 12, "seed": 9, "batch_size": 2,
        "models": MODELS,
        "methods": [
            {"name": "aligned", "kind": "sample", "model": "alpha", "temperature": [0.8, 1.0]},
            {"name": "baco", "kind": "baco", "base": "beta", "aligned": "alpha", "gamma": [0.4, 0.8]},
            {"name": "nudge", "kind": "nudging", "base": "beta", "aligned": "alpha", "threshold": 0.5},
        ],
        "evaluate": {"metrics": ["distinct_2"], "anchors": {"base": "baco@0.8", "aligned": "aligned@1.0"}},
    }


def test_kill_resume_and_shards():
    path = write_experiment("resumable", resumable())
    ref = os.path.join(TMP, "ref")
    t0 = time.time()
    cli("run", path, "--out", ref)
    duration = time.time() - t0
    rng = random.Random(1)
    partial = 0
    for trial in range(3):
        out = os.path.join(TMP, f"killed-{trial}")
        for _ in range(3):  # killed several times before it finishes
            p = subprocess.Popen([BIN, "run", path, "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, 0.9) * duration)
            p.send_signal(signal.SIGKILL)
            p.wait()
        g = os.path.join(out, "nudge", "generations.jsonl")
        partial += not os.path.exists(g) or len(open(g).readlines()) < 12
        cli("run", path, "--out", out)
        for point in os.listdir(ref):
            g = os.path.join(out, point, "generations.jsonl")
            if os.path.exists(g):
                ids = [l["id"] for l in jsonl(g)]
                check(len(ids) == len(set(ids)), f"killed run {trial}: no prompt twice in {point}")
        same_tree(ref, out, f"killed-and-resumed run {trial}")
    check(partial > 0, "a kill interrupted the run at least once (else nothing was resumed)")

    s0, s1, merged = (os.path.join(TMP, n) for n in ("shard0", "shard1", "merged"))
    cli("run", path, "--out", s0, "--shard", "0/2")
    cli("run", path, "--out", s1, "--shard", "1/2")
    check(len(jsonl(os.path.join(s0, "aligned@1.0", "generations.jsonl"))) == 6, "shard 0/2 holds 6 of 12 prompts")
    cli("report", s0, s1, "--out", merged)
    same_tree(ref, merged, "shards merged")
    r = cli("report", s0, "--out", merged + "-half", ok=False)
    check(r.returncode != 0 and "shard 1/2 is missing" in r.stderr, "merging needs every shard: " + r.stderr)
    return path, ref


# ------------------------------------------------------------------------------ bad input
def test_bad_input():
    good = resumable()
    good["limit"] = 2
    good["methods"] = good["methods"][:1]
    good["evaluate"] = {}

    def fails(body_or_text, needle, *extra):
        path = os.path.join(TMP, "bad.json")
        with open(path, "w") as f:
            f.write(body_or_text if isinstance(body_or_text, str) else json.dumps(body_or_text))
        r = cli("run", path, "--out", os.path.join(TMP, "bad-out"), *extra, ok=False)
        check(r.returncode != 0 and needle in r.stderr, f"bad input names '{needle}': {r.stderr.strip()[:300]}")

    fails('{"prompts": ', "not valid JSON")
    fails({**good, "sed": 1}, "unknown key 'sed'")
    fails({**good, "prompts": os.path.join(TMP, "none.jsonl")}, "prompts: no file")
    fails({**good, "methods": [{"name": "x", "kind": "sample", "model": "delta"}]}, "no model named 'delta'")
    fails({**good, "methods": [{"name": "x", "kind": "baco", "base": "beta", "aligned": "alpha", "gamma": "high"}]},
          "methods[0].gamma")
    fails(good, "--shard", "--shard", "2/2")
    # An unwritable output folder.
    blocker = os.path.join(TMP, "a-file")
    open(blocker, "w").close()
    r = cli("run", write_experiment("good", good), "--out", os.path.join(blocker, "out"), ok=False)
    check(r.returncode != 0 and "cannot create the output folder" in r.stderr, "unwritable --out: " + r.stderr)
    # Bad prompt lines: reported by line number, the rest runs.
    lines = open(PROMPTS).read().splitlines()[:4]
    bad_prompts = os.path.join(TMP, "bad-prompts.jsonl")
    with open(bad_prompts, "w") as f:
        f.write("\n".join([lines[0], "{not json", lines[1], '{"id": "no-prompt"}', lines[2]]) + "\n")
    out = os.path.join(TMP, "bad-lines")
    r = cli("run", write_experiment("badlines", {**good, "prompts": bad_prompts, "limit": 0}), "--out", out)
    check("bad-prompts.jsonl:2" in r.stderr and "bad-prompts.jsonl:4" in r.stderr, "bad lines reported: " + r.stderr)
    check(len(jsonl(os.path.join(out, "aligned@1.0", "generations.jsonl"))) == 3, "the 3 good prompts ran")
    # A checkpoint that fails to load: its points fail with the reason, the others finish.
    broken = os.path.join(TMP, "broken-model")
    shutil.copytree(MODELS["alpha"], broken)
    with open(os.path.join(broken, "config.json"), "w") as f:
        f.write("{ not json")
    body = {**good, "models": {**MODELS, "broken": broken},
            "methods": [{"name": "ok", "kind": "sample", "model": "alpha"},
                        {"name": "bad", "kind": "sample", "model": "broken"},
                        {"name": "ok2", "kind": "sample", "model": "beta"}]}
    out = os.path.join(TMP, "broken-run")
    r = cli("run", write_experiment("broken", body), "--out", out, ok=False)
    check(r.returncode == 1 and "bad" in r.stderr and "config.json" in r.stderr, "failed point reported: " + r.stderr)
    summary = json.load(open(os.path.join(out, "summary.json")))
    check("error" in summary["points"]["bad"] and "config.json" in summary["points"]["bad"]["error"],
          "summary records the failed point")
    check("error" not in summary["points"]["ok"] and "error" not in summary["points"]["ok2"], "the other points finish")
    check(len(jsonl(os.path.join(out, "ok2", "generations.jsonl"))) == 2, "the point after the failure ran")


# ------------------------------------------------------------------------------ Python and Ray
def test_python(path, ref):
    import breadth
    import breadth.distributed

    out = os.path.join(TMP, "python")
    calls = []
    rows = breadth.Experiment.load(path).run(out, progress=lambda d, t, label: calls.append((d, t, label)))
    same_tree(ref, out, "Python run")
    check(calls and calls[-1][0] == calls[-1][1] == 12 * 5, f"progress callback reaches the total: {calls[-1:]}")
    summary = json.load(open(os.path.join(ref, "summary.json")))
    check([r["point"] for r in rows] == list(summary["points"]), "one row per point, in order")
    for r in rows:
        check(abs(r["distinct_2"] - summary["points"][r["point"]]["distinct_2"]) < 1e-12, "rows hold the figures")
    try:
        import pandas

        check(pandas.DataFrame(rows).shape[0] == 5, "rows make a DataFrame")
    except ImportError:
        check(False, "pandas is installed by scripts/setup.sh")
    try:
        breadth.Experiment.parse('{"prompts": "x.jsonl", "bogus": 1}')
        check(False, "Python raises on a bad experiment")
    except breadth.InvalidArgumentError as e:
        check("bogus" in str(e) or "prompts" in str(e), "Python error names the key: " + str(e))

    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    try:
        out = os.path.join(TMP, "ray")
        rows = breadth.distributed.run(path, out, num_actors=2, progress=False)
        same_tree(ref, out, "Ray run on 2 local CPUs")
        check(len(rows) == 5, "Ray run returns the rows")
    finally:
        ray.shutdown()


def main():
    router = train_router()
    test_every_kind(router)
    path, ref = test_kill_resume_and_shards()
    test_bad_input()
    test_python(path, ref)
    if FAILURES:
        sys.exit(f"{len(FAILURES)} check(s) failed")
    shutil.rmtree(TMP, ignore_errors=True)
    print("experiment runs: all checks passed")


if __name__ == "__main__":
    main()
