"""The Python peer of bench_eval: the same pipeline with rouge-score, nltk and numpy/vendi-score.

Greedy partition against class representatives with rouge-score ROUGE-1 F > 0.458 and div-cov with
constant quality; Distinct-1..4 over nltk wordpunct tokens; Self-BLEU with nltk sentence_bleu
(method1); Self-ROUGE-L with rouge-score (mean over pairs); Vendi with the n-gram Jaccard kernel
(orders 1-4) and vendi_score.vendi.score_K. Prints one JSON object like bench_eval.

Usage: python bench_eval.py FILE.jsonl [REPEATS]
"""
import json
import sys
import time

import numpy as np
from nltk.tokenize import wordpunct_tokenize
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from rouge_score import rouge_scorer
from vendi_score import vendi

R1 = rouge_scorer.RougeScorer(["rouge1"])
RL = rouge_scorer.RougeScorer(["rougeL"])
SMOOTH = SmoothingFunction().method1


def divcov_rouge1(answers):
    reps = []
    for a in answers:
        if not any(R1.score(r, a)["rouge1"].fmeasure > 0.458 for r in reps):
            reps.append(a)
    return len(reps) / len(answers)


def distinct(answers, n):
    toks = [wordpunct_tokenize(a) for a in answers]
    grams = [tuple(t[i : i + n]) for t in toks for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def self_bleu(answers):
    toks = [wordpunct_tokenize(a) for a in answers]
    return float(np.mean([sentence_bleu(toks[:i] + toks[i + 1 :], toks[i], smoothing_function=SMOOTH) for i in range(len(toks))]))


def self_rouge_l(answers):
    n = len(answers)
    s = [RL.score(answers[j], answers[i])["rougeL"].fmeasure for i in range(n) for j in range(i + 1, n)]
    return float(np.mean(s))


def vendi_ngram(answers, orders=(1, 2, 3, 4)):
    toks = [wordpunct_tokenize(a) for a in answers]
    n = len(toks)
    k = np.zeros((n, n))
    for o in orders:
        sets = [set(tuple(t[i : i + o]) for i in range(len(t) - o + 1)) for t in toks]
        for i in range(n):
            for j in range(i, n):
                u = len(sets[i] | sets[j])
                v = len(sets[i] & sets[j]) / u if u else 0.0
                k[i, j] += v
                if i != j:
                    k[j, i] += v
    return float(vendi.score_K(k / len(orders)))


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    records = [json.loads(l) for l in open(path)]
    stages = {"divcov_rouge1": divcov_rouge1}
    for n in (1, 2, 3, 4):
        stages[f"distinct_{n}"] = lambda a, n=n: distinct(a, n)
    stages.update({"self_bleu": self_bleu, "self_rouge_l": self_rouge_l, "vendi_ngram": vendi_ngram})
    times, values = {}, {}
    for name, fn in stages.items():
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            total = sum(fn(r["generations"]) for r in records)
            best = min(best, time.perf_counter() - t0)
        times[name] = best
        values[name] = total / len(records)
    times["total"] = sum(times.values())
    print(json.dumps({"queries": len(records), "answers": len(records[0]["generations"]), "seconds": times, "values": values}))


if __name__ == "__main__":
    main()
