"""The Python package beside the Python libraries a user would otherwise call, from Python.

Usage: PYTHONPATH=build/python .venv/bin/python benchmarks/python/bench_python.py [--repeats 5]

Every row does the same work both ways in the same run and checks that the answers agree:
  self-BLEU      breadth.self_bleu                 vs nltk sentence_bleu (method1) over wordpunct tokens
  ROUGE-1 classes breadth.DivCov("rouge1").partition vs greedy partitioning with rouge-score
  n-gram Vendi   breadth.vendi_score_ngram(cosine)  vs vendi_score.text_utils.ngram_vendi_score
  tokenize       breadth.Model.tokenize (per text)  vs tokenizers.Tokenizer.encode (per text), same file
  call overhead  breadth.normalize_answer           vs the same normalization in pure Python
Answer sets are synthetic (seeded): 20 sets of 50 answers of 5-25 words from a 300-word vocabulary.
Prints a markdown table with best-of-N times and the speed-up (Python peer time / breadth time).
"""

import argparse
import os
import random
import re
import sys
import time

import breadth


def answer_sets(n_sets=20, n=50, seed=0):
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(300)]
    sets = []
    for _ in range(n_sets):
        base = [rng.choice(vocab) for _ in range(12)]
        s = []
        for _ in range(n):
            k = rng.randint(5, 25)
            words = [rng.choice(base) if rng.random() < 0.6 else rng.choice(vocab) for _ in range(k)]
            s.append(" ".join(words) + rng.choice([".", "!", ""]))
        sets.append(s)
    return sets


def best(fn, repeats):
    t = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        t.append(time.perf_counter() - t0)
    return min(t), out


def py_self_bleu(texts):
    from nltk.tokenize import wordpunct_tokenize
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    toks = [wordpunct_tokenize(t) for t in texts]
    sm = SmoothingFunction().method1
    return sum(sentence_bleu(toks[:i] + toks[i + 1:], toks[i], smoothing_function=sm) for i in range(len(toks))) / len(toks)


def py_rouge_partition(answers, scorer):
    reps, out = [], []
    for i, a in enumerate(answers):
        for c, j in enumerate(reps):
            if scorer.score(answers[j], a)["rouge1"].fmeasure > 0.458:
                out.append(c)
                break
        else:
            reps.append(i)
            out.append(len(reps) - 1)
    return out


_ws = re.compile(r"\s+")


def py_normalize(a):
    a = _ws.sub(" ", a.lower())
    return a.strip(" \t\n\r.,;:!?\"'`")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--tokenizer-model", default=None, help="HF checkpoint dir with tokenizer.json (tokenize row)")
    args = p.parse_args()
    sets = answer_sets()
    rows = []

    # self-BLEU over the first 5 sets (nltk is slow)
    few = sets[:5]
    tb, vb = best(lambda: [breadth.self_bleu(s) for s in few], args.repeats)
    tp, vp = best(lambda: [py_self_bleu(s) for s in few], max(1, args.repeats // 2))
    assert all(abs(a - b) < 1e-9 for a, b in zip(vb, vp)), (vb, vp)
    rows.append(("self-BLEU (5 sets x 50 answers)", tb, tp, "nltk"))

    from rouge_score import rouge_scorer

    sc = rouge_scorer.RougeScorer(["rouge1"])
    dc = breadth.DivCov("rouge1")
    tb, vb = best(lambda: [dc.partition(s) for s in sets], args.repeats)
    tp, vp = best(lambda: [py_rouge_partition(s, sc) for s in sets], max(1, args.repeats // 2))
    assert vb == vp
    rows.append(("ROUGE-1 classes (20 x 50 answers)", tb, tp, "rouge-score"))

    from vendi_score import text_utils

    tb, vb = best(lambda: [breadth.vendi_score_ngram(s, kernel="cosine") for s in sets], args.repeats)
    tp, vp = best(lambda: [text_utils.ngram_vendi_score(s, ns=[1, 2, 3, 4]) for s in sets], max(1, args.repeats // 2))
    agree = all(abs(a - b) < 1e-6 * max(1, abs(b)) for a, b in zip(vb, vp))
    rows.append(("n-gram Vendi (20 x 50 answers)" + ("" if agree else " [values differ]"), tb, tp, "vendi-score"))

    if args.tokenizer_model:
        from tokenizers import Tokenizer

        lm = breadth.Model(args.tokenizer_model)
        tok = Tokenizer.from_file(os.path.join(args.tokenizer_model, "tokenizer.json"))
        texts = [a for s in sets for a in s]
        tb, vb = best(lambda: [lm.tokenize(t) for t in texts], args.repeats)
        tp, vp = best(lambda: [tok.encode(t, add_special_tokens=False).ids for t in texts], args.repeats)
        assert vb == vp
        rows.append((f"tokenize ({len(texts)} texts, one call each)", tb, tp, "tokenizers (Rust)"))

    texts = [a for s in sets for a in s]
    tb, vb = best(lambda: [breadth.normalize_answer(t) for t in texts], args.repeats)
    tp, vp = best(lambda: [py_normalize(t) for t in texts], args.repeats)
    rows.append((f"call overhead: normalize_answer ({len(texts)} calls)", tb, tp, "pure Python"))

    print(f"breadth {breadth.__version__}, Python {sys.version.split()[0]}, best of {args.repeats}\n")
    print("| work | breadth (Python binding) | Python peer | peer | speed-up |")
    print("|---|---:|---:|---|---:|")
    for name, tb, tp, peer in rows:
        print(f"| {name} | {tb * 1e3:.1f} ms | {tp * 1e3:.1f} ms | {peer} | {tp / tb:.1f}x |")


if __name__ == "__main__":
    main()
