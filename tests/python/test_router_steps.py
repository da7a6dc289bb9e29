"""breadth.build_routing_data / train_router_from_files / routing_report equal the CLI's
`route build-data / train / report` with the same options (the same library steps, two faces), on the
tiny model pool of tests/routing_pipeline (make_router_pool.py)."""

import json
import os
import subprocess

import pytest

import breadth

POOL_FIX = os.path.join(os.environ.get("BREADTH_FIXTURES_DIR", "build/fixtures"), "router_pool")
MODELS = [os.path.join(POOL_FIX, "pool", n) for n in ("alpha", "beta", "gamma")]
ENCODER = os.path.join(POOL_FIX, "encoder")


@pytest.fixture(scope="module")
def cli():
    path = os.environ.get("BREADTH_CLI")
    if not path or not os.path.exists(path) or not os.path.exists(os.path.join(POOL_FIX, "prompts.jsonl")):
        pytest.fail("run through ctest: it gives BREADTH_CLI and makes the router_pool fixture", pytrace=False)

    def run(*args):
        p = subprocess.run([path, "route", *args], capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout

    return run


def read(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def faces(cli, tmp_path_factory):
    """The build-data step through both faces: (python dir, cli dir, progress calls)."""
    py_dir, cli_dir = tmp_path_factory.mktemp("py"), tmp_path_factory.mktemp("cli")
    ms = [a for m in MODELS for a in ("--model", m)]
    out = cli("build-data", "--prompts", os.path.join(POOL_FIX, "prompts.jsonl"), "--limit", "20", "--out",
              str(cli_dir / "table.jsonl"), "--budget", "3", "--strategy", "one", "--question-kind", "fixed",
              "--equivalence", "exact", "--max-new-tokens", "8", "--batch", "3", "--max-generations", "6", "--seed",
              "7", "--features-out", str(cli_dir / "agn.safetensors"), "--features", "agnostic", "--encoder", ENCODER,
              "--feature-cache", str(cli_dir / "cache"), *ms)
    assert "60 cells computed" in out
    calls = []
    r = breadth.build_routing_data(
        os.path.join(POOL_FIX, "prompts.jsonl"), MODELS, str(py_dir / "table.jsonl"), limit=20, budget=3,
        strategy="one", question_kind="fixed", equivalence="exact", max_new_tokens=8, batch=3, max_generations=6,
        seed=7, features_out=str(py_dir / "agn.safetensors"), features="agnostic", encoder=ENCODER,
        feature_cache=str(py_dir / "cache"), progress=lambda d, t, label: calls.append((d, t)))
    return py_dir, cli_dir, r, calls


def test_build_routing_data_equals_cli(faces):
    py_dir, cli_dir, r, calls = faces
    assert r == {"computed": 60, "queries": 20, "models": ["alpha", "beta", "gamma"]}
    assert calls[-1] == (60, 60) and len(calls) == 60
    assert read(py_dir / "table.jsonl") == read(cli_dir / "table.jsonl")
    assert read(py_dir / "agn.safetensors") == read(cli_dir / "agn.safetensors")
    # Resumable: a second call over the complete table computes nothing.
    again = breadth.build_routing_data(os.path.join(POOL_FIX, "prompts.jsonl"), MODELS, str(py_dir / "table.jsonl"),
                                       limit=20, budget=3, strategy="one", question_kind="fixed",
                                       equivalence="exact", max_new_tokens=8, batch=3, max_generations=6, seed=7)
    assert again["computed"] == 0


@pytest.mark.parametrize("kind", ["mway_mlp", "knn", "bert"])
def test_train_router_from_files_equals_cli(faces, cli, kind):
    py_dir, cli_dir, _, _ = faces
    table = str(cli_dir / "table.jsonl")
    if kind == "bert":
        flags, kw = ["--encoder", ENCODER, "--bert-epochs", "2", "--labels", "soft"], dict(
            encoder=ENCODER, bert_max_epochs=2, labels="soft")
    else:
        flags = ["--features-file", str(cli_dir / "agn.safetensors"), "--hidden", "16", "--weight-decay", "0",
                 "--epochs", "20", "--patience", "5", "--k", "1"]
        kw = dict(features_file=str(cli_dir / "agn.safetensors"), hidden=[16], weight_decay=[0.0], max_epochs=20,
                  patience=5, knn_k=1)
    cli("train", "--data", table, "--kind", kind, "--seed", "3", *flags, "--out", str(cli_dir / kind))
    r = breadth.train_router_from_files(table, str(py_dir / kind), kind=kind, seed=3, **kw)
    assert r.kind == kind and r.pool == ["alpha", "beta", "gamma"]
    files = ["router.json", "weights.safetensors"] + (["encoder/model.safetensors"] if kind == "bert" else [])
    for f in files:
        assert read(py_dir / kind / f) == read(cli_dir / kind / f), f


def test_routing_report_equals_cli(faces, cli):
    py_dir, cli_dir, _, _ = faces
    table, feats = str(cli_dir / "table.jsonl"), str(cli_dir / "agn.safetensors")
    printed = cli("report", "--data", table, "--features-file", feats, "--seeds", "1", "--budget", "3", "--hidden",
                  "8", "--weight-decay", "0", "--labels", "soft", "--epochs", "5", "--json", "--markdown-out",
                  str(cli_dir / "report.md"))
    calls = []
    rep = breadth.routing_report(table, features_file=feats, seeds=1, budget=3, hidden=[8], weight_decay=[0.0],
                                 labels="soft", max_epochs=5, markdown_out=str(py_dir / "report.md"),
                                 json_out=str(py_dir / "report.json"), progress=lambda *a: calls.append(a))
    assert rep == json.loads(printed)
    assert rep["test_queries"] == 4 and rep["rows"]
    assert read(py_dir / "report.json").decode() == printed
    assert read(py_dir / "report.md") == read(cli_dir / "report.md")
    assert calls
