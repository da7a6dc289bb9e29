"""DivCov, metrics and Coverage/Dominance against hand-worked cases and the reference libraries."""

import math

import pytest
import torch

import breadth


def test_divcov_gold_hand_worked():
    dc = breadth.DivCov("exact", quality=["monday", "tuesday", "wednesday"])
    r = dc.evaluate("Name a weekday.", ["Monday", "monday.", "Tuesday", "Sunday"])
    assert r.partition == [0, 0, 1, 2] and r.quality == [1, 1, 1, 0]
    assert r.div_cov == pytest.approx(2 / 3) and r.num_unique == 3 and r.qual == pytest.approx(0.75)
    assert "div_cov=0.6667" in repr(r) and "<table>" in r._repr_html_()
    assert repr(dc) == "DivCov(equivalence='exact', quality=gold, budget=0, patience=0.8)"
    # Budget B = 10 with gold: max-uniq-sum = min(B, |gold|) = 3 still.
    assert dc.evaluate("q", ["monday"], budget=10).div_cov == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="budget"):
        dc.evaluate("q", ["a", "b", "c"], budget=2)


def test_divcov_scores_callables_and_partition():
    dc = breadth.DivCov(lambda a, b: a[0].lower() == b[0].lower(),
                        quality=lambda prompt, answers: [len(a) for a in answers], max_score=10, budget=5)
    r = dc.evaluate("q", ["apple", "Avocado", "banana"])
    assert r.partition == [0, 0, 1] and r.quality == [5, 7, 6]
    assert r.div_cov == pytest.approx((5 + 6) / (5 * 10))
    r = dc.evaluate("q", ["apple", "Avocado", "banana"], scores=[1, 2, 3])
    assert r.div_cov == pytest.approx((1 + 3) / 50)
    assert dc.partition(["x1", "y", "x2"]) == [0, 1, 0]

    def broken(a, b):
        raise RuntimeError("equivalence failed")

    with pytest.raises(RuntimeError, match="equivalence failed"):
        breadth.DivCov(broken).evaluate("q", ["a", "b"])
    r = breadth.DivCov.from_partition([0, 0, 1], [1.0, 1.0, 0.0], max_unique_sum=3)
    assert r.div_cov == pytest.approx(1 / 3) and r.generation_scores == [1.0, 0.0, 0.0]
    assert r.utility == pytest.approx(1 / (1 + 0.8 + 0.64))
    # Any class labels (clustering tools): canonicalized to first-appearance order.
    assert breadth.DivCov.from_partition([3, 3, 7, 1], [1, 1, 2, 0], max_unique_sum=4).partition == [0, 0, 1, 2]
    with pytest.raises(ValueError, match="partition"):
        breadth.DivCov.from_partition([1, 0, 2], [1, 1], max_unique_sum=2)
    with pytest.raises(ValueError, match="unknown equivalence"):
        breadth.DivCov("nope")


def test_rouge1_equivalence_against_rouge_score():
    from rouge_score import rouge_scorer

    a = ["The cat sat on the mat.", "A cat sat on a mat!", "Dogs run in the park.", "the cat sat on the mat"]
    sc = rouge_scorer.RougeScorer(["rouge1", "rougeL"])
    # Greedy partition with ROUGE-1 F > 0.458 computed by rouge-score itself.
    reps, want = [], []
    for i, x in enumerate(a):
        for c, j in enumerate(reps):
            if sc.score(a[j], x)["rouge1"].fmeasure > 0.458:
                want.append(c)
                break
        else:
            reps.append(i)
            want.append(len(reps) - 1)
    assert breadth.DivCov("rouge1").partition(a) == want
    p, r, f = breadth.rouge1(a[0], a[1])
    ref = sc.score(a[0], a[1])["rouge1"]
    assert (p, r, f) == pytest.approx((ref.precision, ref.recall, ref.fmeasure))
    assert breadth.rouge_l(a[0], a[2])[2] == pytest.approx(sc.score(a[0], a[2])["rougeL"].fmeasure)


def test_lexical_metrics_against_nltk():
    from nltk.tokenize import wordpunct_tokenize
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    texts = ["the cat sat on the mat", "a dog sat on the log today", "the cat ran, fast!", "cats and dogs"]
    toks = [wordpunct_tokenize(t) for t in texts]
    want = sum(sentence_bleu(toks[:i] + toks[i + 1:], toks[i], smoothing_function=SmoothingFunction().method1)
               for i in range(len(toks))) / len(toks)
    assert breadth.self_bleu(texts) == pytest.approx(want, rel=1e-12)
    assert breadth.word_tokenize("the cat ran, fast!") == wordpunct_tokenize("the cat ran, fast!")
    assert breadth.sentence_bleu([toks[0]], toks[2]) == pytest.approx(
        sentence_bleu([toks[0]], toks[2], smoothing_function=SmoothingFunction().method1), rel=1e-12)
    # distinct-1 of "a b a b": 2 unique of 4; distinct-2: {a b, b a} of 3.
    assert breadth.distinct_n(["a b a b"], 1) == 0.5
    assert breadth.distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert breadth.ead_n([[1, 2, 1, 2]], 1, 10) == pytest.approx(2 / (10 * (1 - (9 / 10) ** 4)))
    assert 0 <= breadth.self_rouge_l(texts) <= 1
    with pytest.raises(ValueError, match="aggregate"):
        breadth.self_rouge_l(texts, aggregate="median")


def test_semantic_metrics_against_vendi_score():
    from vendi_score import vendi

    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    k = x @ x.T
    assert breadth.vendi_score(k) == pytest.approx(float(vendi.score_K(k.numpy())), rel=1e-9)
    assert breadth.vendi_score_embeddings(x) == pytest.approx(float(vendi.score_X(x.numpy())), rel=1e-9)
    e = torch.eye(3)
    assert breadth.embedding_dissimilarity(e) == pytest.approx(1.0)
    assert breadth.semantic_entropy([0, 0, 1, 1]) == pytest.approx(math.log(2))
    assert breadth.nli_diversity(torch.tensor([[1.0, 0.2, 0.4], [0, 1, 0.6], [0, 0, 1]])) == pytest.approx(0.4)
    assert breadth.distinct_classes([0, 1, 0, 2]) == 3
    assert breadth.reward_to_score(-100.0) == 1 and breadth.reward_to_score(0.0) == 10


def test_pareto_hand_worked():
    assert breadth.coverage([(1.0, 1.0)]) == pytest.approx(1.0)
    assert breadth.coverage([(0.5, 0.5)]) == pytest.approx(0.25)  # flat to x = 0.5, then 0
    assert breadth.pareto_front([(0.2, 0.9), (0.5, 0.5), (0.4, 0.4), (0.9, 0.1)]) == [(0.2, 0.9), (0.5, 0.5),
                                                                                       (0.9, 0.1)]
    (q1, d1, m1), (q2, d2, m2) = breadth.dominance([[(1.0, 0.0)], [(0.0, 1.0)]])
    assert q1 + q2 == pytest.approx(1.0) and d1 + d2 == pytest.approx(1.0)
    pts = breadth.normalize_points([(0.5, 0.5), (2.0, 0.5)], base=(0, 0), aligned=(1, 0), bound=1.0)
    assert pts == [(0.5, 0.5)]
