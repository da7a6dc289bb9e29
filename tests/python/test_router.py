"""breadth.Router: training, save/load and picks on hand-placed features; encoder features."""

import os

import pytest
import torch

import breadth


@pytest.fixture(scope="module")
def table(fx):
    return breadth.load_routing_table(os.path.join(fx, "routing.jsonl"))


def hand_features(table):
    """Arithmetic queries point one way, poem requests the other."""
    f = torch.zeros(table.num_queries, 2)
    for i, q in enumerate(table.queries):
        f[i] = torch.tensor([1.0, 0.05 * i]) if table.div_cov[i, 0] > table.div_cov[i, 1] else torch.tensor([0.05 * i, 1.0])
    return f


def test_table(table):
    assert table.models == ["mathbot", "poetbot"] and table.num_queries == 20
    assert table.div_cov.shape == (20, 2) and table.div_cov.dtype == torch.float64
    assert repr(table) == "<breadth.RoutingTable 20 queries x 2 models>"


def test_train_save_load_pick(table, tmp_path):
    r = breadth.Router.train(table, hand_features(table), kind="knn", knn_k=1)
    assert r.kind == "knn" and r.feature_kind == "agnostic" and r.pool == ["mathbot", "poetbot"]
    r.save(str(tmp_path / "router"))
    r2 = breadth.Router.load(str(tmp_path / "router"))
    assert r2.config["knn_k"] == 1 and r2.feature_dims == [2]
    d = r2.pick(torch.tensor([0.9, 0.1]), k=2, budget=51)
    assert d.models == ["mathbot", "poetbot"] and d.budgets == [26, 25] and d.scores[0] == pytest.approx(0.8)
    assert r2.pick(torch.tensor([0.0, 3.0])).models == ["poetbot"]
    s = r2.scores(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    assert s.shape == (2, 2) and s.dtype == torch.float64
    assert r2.rank(torch.tensor([[1.0, 0.0], [0.0, 1.0]])) == [[0, 1], [1, 0]]
    assert "mathbot: 26" in repr(d) and repr(r2).startswith("<breadth.Router knn (agnostic features)")
    with pytest.raises(ValueError):
        r2.pick(torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="pool"):
        breadth.Router.load(str(tmp_path / "router"), pool=["a", "b"])
    with pytest.raises(breadth.Error):
        breadth.Router.load(str(tmp_path / "missing"))
    assert breadth.route_budgets(50, 2, [3, 1]) == [38, 12]  # 37.5 / 12.5: the remainder to the better-ranked


def test_routing_with_encoder_features(table, minilm):
    enc = breadth.Encoder(minilm)
    r = breadth.Router.train(table, enc.embed(table.queries), kind="knn", knn_k=1)
    q = enc.embed(["What is 12 times 7?", "Write a haiku about the moon."])
    assert r.pick(q, row=0).models == ["mathbot"]
    assert r.pick(q, row=1).models == ["poetbot"]


def test_train_bert_matches_pytorch_and_reloads(tmp_path):
    """The fine-tuned BERT router trained from Python equals the PyTorch/transformers reference
    (tests/routing_pipeline/make_bert_router_reference.py) and reloads from its folder alone."""
    import json
    d = os.path.join(os.environ.get("BREADTH_FIXTURES_DIR", "build/fixtures"), "bert_router_reference")
    with open(os.path.join(d, "reference.json")) as f:
        ref = json.load(f)
    o, s = ref["options"], ref["split"]
    table = breadth.load_routing_table(os.path.join(d, "table.jsonl"))
    r = breadth.Router.train_bert(table, os.path.join(d, "encoder"), seed=o["seed"], labels=["soft"],
                                  max_epochs=o["max_epochs"], patience=o["patience"], batch_size=o["batch_size"],
                                  learning_rate=o["learning_rate"], weight_decay=o["weight_decay"],
                                  max_length=o["max_length"], split=(s["train"], s["val"], s["test"]))
    assert r.kind == "bert" and r.config["epochs"] == ref["best_epoch"]
    scores = r.scores_texts(table.queries)
    assert torch.allclose(scores, torch.tensor(ref["scores"], dtype=torch.float64), atol=2e-5)
    r.save(str(tmp_path / "bert"))
    loaded = breadth.Router.load(str(tmp_path / "bert"), pool=table.models)
    assert torch.allclose(loaded.scores_texts(table.queries), scores, atol=1e-6)
    d2 = loaded.pick_text(table.queries[0], k=2, budget=10)
    assert d2.models == [table.models[i] for i in scores[0].argsort(descending=True)[:2].tolist()]
    with pytest.raises(breadth.InvalidArgumentError):
        loaded.scores(torch.zeros(1, 32))
