"""Reference values for tests/eval, computed with the Python libraries breadth's metrics follow.

Usage: python make_eval_refs.py OUTDIR

Reads NoveltyBench's real gemini-1.5-pro generations from $BREADTH_SHARED_DIR and writes
OUTDIR/refs.json with, per query:
  - the word tokens (nltk wordpunct_tokenize) and rouge-score tokens of every generation;
  - NoveltyBench's pair rules on every pair (i < j): the short-answer unigram shortcut, implemented
    here from the rule's statement (SPEC §4), and ROUGE-1 F from rouge-score;
  - Distinct-1..4, Self-BLEU (nltk sentence_bleu, method1 and no smoothing), Self-ROUGE-L
    (rouge-score, mean over pairs and mean of score_multi maxima), Vendi with vendi-score's n-gram
    cosine kernel and with an n-gram Jaccard kernel fed to vendi.score_K;
  - EAD-1/2 on Qwen3 tokenizer ids (tokenizers library), in exact rational arithmetic.
and random cases: embeddings (vendi.score_X, cosine dissimilarity) and a Coverage/Dominance case
computed by brute force (dense sampling), independent of breadth's closed forms.
"""
import json
import math
import os
import random
import sys
from collections import Counter
from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
from nltk.tokenize import wordpunct_tokenize
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from rouge_score import rouge_scorer
from rouge_score import tokenize as rouge_tokenize
from vendi_score import vendi
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

import warnings

warnings.filterwarnings("ignore")  # nltk warns on zero n-gram overlaps without smoothing


def shortcut_rule(a, b, max_words=5):
    """NoveltyBench: lowercase, strip, split; decided only when the longer answer is short."""
    ta, tb = a.lower().strip().split(), b.lower().strip().split()
    longer = max(len(ta), len(tb))
    if longer > max_words:
        return None
    return 2 * len(set(ta) & set(tb)) >= longer


def ngram_vendi_score(sents, ns, tokenizer):
    """vendi_score.text_utils.ngram_vendi_score, whose module cannot be imported here (it needs the
    `datasets` package): the same CountVectorizer n-gram counts, L2-normalized, cosine kernel
    averaged over n, then vendi.score_K."""
    ks = []
    for n in ns:
        vec = CountVectorizer(tokenizer=tokenizer, ngram_range=(n, n), lowercase=False, token_pattern=None)
        try:
            x = normalize(vec.fit_transform(sents))
        except ValueError:  # no text has an n-gram of this order: vendi-score would stop here
            ks.append(np.zeros((len(sents), len(sents))))
            continue
        ks.append((x @ x.T).toarray())
    return vendi.score_K(np.stack(ks, axis=0).mean(axis=0))


def distinct(tokens, n):
    grams = [tuple(t[i : i + n]) for t in tokens for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def jaccard_kernel(tokens, orders):
    k = np.zeros((len(tokens), len(tokens)))
    for n in orders:
        sets = [set(tuple(t[i : i + n]) for i in range(len(t) - n + 1)) for t in tokens]
        for i in range(len(sets)):
            for j in range(len(sets)):
                u = len(sets[i] | sets[j])
                k[i, j] += len(sets[i] & sets[j]) / u if u else 0.0
    return k / len(orders)


def ead(ids, n, vocab):
    """|unique n-grams| / (V (1 - ((V-1)/V)^N)) with V = vocab^n, in 60-digit decimals."""
    grams = [tuple(s[i : i + n]) for s in ids for i in range(len(s) - n + 1)]
    if not grams:
        return 0.0
    getcontext().prec = 80
    V = Decimal(vocab) ** n
    expected = V * (1 - ((V - 1) / V) ** len(grams))
    return float(Decimal(len(set(grams))) / expected)


def coverage_brute(front):
    """Area under the curve by dense sampling (flat start, drop after the last point)."""
    if not front:
        return 0.0
    xs = np.linspace(0.0, 1.0, 400001)
    fx = [p[0] for p in front]
    fy = [p[1] for p in front]
    ys = np.interp(xs, fx, fy, left=fy[0], right=0.0)
    ys[xs > fx[-1]] = 0.0
    return float(np.trapezoid(ys, xs))


def pareto_brute(points):
    pts = sorted(set(points))
    out = []
    for p in pts:
        dominated = any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in pts)
        if not dominated:
            out.append(p)
    return sorted(out)


def dominance_brute(per_method):
    """Each axis sampled densely over the frontier span; a sample belongs to the frontier point
    nearest along that axis (= the interval between midpoints)."""
    front = pareto_brute([p for m in per_method for p in m])
    owners = [[k for k, m in enumerate(per_method) if p in m] for p in front]
    res = []
    shares = {}
    for axis in (0, 1):
        coords = np.array([p[axis] for p in front])
        lo, hi = coords.min(), coords.max()
        share = np.zeros(len(per_method))
        samples = np.linspace(lo, hi, 200001)[:-1] + (hi - lo) / 400002
        nearest = np.abs(samples[:, None] - coords[None, :]).argmin(axis=1)
        counts = np.bincount(nearest, minlength=len(front)) / len(samples)
        for f, c in enumerate(counts):
            for k in owners[f]:
                share[k] += c / len(owners[f])
        shares[axis] = share
    for k in range(len(per_method)):
        q, d = shares[0][k], shares[1][k]
        res.append({"dom_q": q, "dom_d": d, "dom": 2 * q * d / (q + d) if q + d > 0 else 0.0})
    return res, front


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    shared = os.environ.get("BREADTH_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
    path = os.path.join(shared, "data/noveltybench/gemini-1.5-pro-curated-scores.jsonl")
    records = [json.loads(line) for line in open(path)]

    from tokenizers import Tokenizer

    qwen = Tokenizer.from_file(os.path.join(shared, "data/tokenizers/qwen3/tokenizer.json"))
    qwen_vocab = qwen.get_vocab_size()

    r1 = rouge_scorer.RougeScorer(["rouge1"])
    rl = rouge_scorer.RougeScorer(["rougeL"])
    smooth1 = SmoothingFunction().method1
    queries = []
    for rec in records:
        gens = rec["generations"]
        words = [wordpunct_tokenize(g) for g in gens]
        pairs = []
        for i in range(len(gens)):
            for j in range(i + 1, len(gens)):
                pairs.append(
                    {
                        "i": i,
                        "j": j,
                        "shortcut": shortcut_rule(gens[i], gens[j]),
                        "rouge1": r1.score(gens[i], gens[j])["rouge1"].fmeasure,
                    }
                )
        n = len(gens)
        bleu1 = np.mean([sentence_bleu(words[:i] + words[i + 1 :], words[i], smoothing_function=smooth1) for i in range(n)])
        bleu0 = np.mean([sentence_bleu(words[:i] + words[i + 1 :], words[i]) for i in range(n)])
        # rouge-score's LCS is pure Python: Self-ROUGE-L references only for the queries whose
        # generations are at most 100 words (65 of 100), to keep the fixture fast.
        rouge_l_mean = rouge_l_max = None
        if max(len(g.split()) for g in gens) <= 100:
            fl = np.zeros((n, n))
            for i in range(n):
                for j in range(i + 1, n):
                    fl[i, j] = fl[j, i] = rl.score(gens[j], gens[i])["rougeL"].fmeasure
            rouge_l_mean = float(fl[np.triu_indices(n, 1)].mean())
            # score_multi(others, g_i) keeps the target with the largest F: the row maximum.
            rouge_l_max = float(np.mean([max(fl[i, j] for j in range(n) if j != i) for i in range(n)]))
        ids = [qwen.encode(g, add_special_tokens=False).ids for g in gens]
        queries.append(
            {
                "id": rec["id"],
                "words": words,
                "rouge_tokens": [rouge_tokenize.tokenize(g, None) for g in gens],
                "pairs": pairs,
                "distinct": [distinct(words, k) for k in (1, 2, 3, 4)],
                "self_bleu_method1": float(bleu1),
                "self_bleu_none": float(bleu0),
                "self_rouge_l_mean": rouge_l_mean,
                "self_rouge_l_max": rouge_l_max,
                "vendi_ngram_cosine": float(ngram_vendi_score(gens, ns=[1, 2, 3, 4], tokenizer=wordpunct_tokenize)),
                "vendi_ngram_jaccard": float(vendi.score_K(jaccard_kernel(words, [1, 2, 3, 4]))),
                "token_ids": ids,
                "ead": [ead(ids, 1, qwen_vocab), ead(ids, 2, qwen_vocab)],
            }
        )

    rng = np.random.default_rng(1234)
    embeddings = []
    for n, d in ((10, 16), (7, 3), (12, 384)):
        x = rng.normal(size=(n, d))
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        sims = xn @ xn.T
        embeddings.append(
            {
                "x": x.tolist(),
                "vendi": float(vendi.score_X(x)),
                "dissimilarity": float(np.mean(1 - sims[np.triu_indices(n, 1)])),
            }
        )

    # A random Coverage/Dominance case: three methods, some points outside the unit square.
    prng = random.Random(99)
    anchors = {"x_min": 2.0, "x_max": 6.0, "y_min": 0.3, "y_max": 0.9}
    methods = {}
    for name in ("alpha", "beta", "gamma"):
        methods[name] = [[prng.uniform(1.5, 6.5), prng.uniform(0.2, 1.0)] for _ in range(9)]
    norm = {}
    for name, pts in methods.items():
        kept = []
        for x, y in pts:
            nx = (x - anchors["x_min"]) / (anchors["x_max"] - anchors["x_min"])
            ny = (y - anchors["y_min"]) / (anchors["y_max"] - anchors["y_min"])
            if 0 <= nx <= 1 and 0 <= ny <= 1:
                kept.append((nx, ny))
        norm[name] = kept
    dom, front = dominance_brute(list(norm.values()))
    pareto_case = {
        "anchors": anchors,
        "methods": methods,
        "coverage": {k: coverage_brute(pareto_brute(v)) for k, v in norm.items()},
        "dominance": dict(zip(norm.keys(), dom)),
        "kept": {k: len(v) for k, v in norm.items()},
    }

    with open(os.path.join(out_dir, "refs.json"), "w") as f:
        json.dump({"qwen3_vocab": qwen_vocab, "queries": queries, "embeddings": embeddings, "pareto": pareto_case}, f)


if __name__ == "__main__":
    main()
