"""Reference NLI diversity, entailment clusters and semantic entropy computed with transformers.

Two tiny random NLI checkpoints (a RoBERTa with ENTAILMENT as label 2, a BERT with entailment as label
0) are classified pair by pair, unpadded, by transformers; the tokenizers library's pair template
builds their inputs. From those probabilities:

- nli_diversity: mean over i < j of P(entailment | premise y_i, hypothesis y_j);
- clusters: Kuhn et al. (2023), Algorithm 1 ("bidirectional entailment clustering"): each output is
  compared with the first member of each existing class in order and joins the first class where
  the NLI model's predicted class (argmax) is entailment in *both* directions, else opens a class;
- semantic entropy: p(C) = sum_{i in C} exp(l_i) / sum_i exp(l_i) over the sampled set, -sum p log p
  (natural log), in float64 with log-sum-exp; and with no log-likelihoods, p(C) = |C| / n.

The entailment logit of each checkpoint's head is shifted so that about half of all ordered pairs
predict entailment; otherwise random weights rarely entail both ways and every class is a singleton.
Every argmax decision used has a margin of at least 1e-3, so float differences cannot flip it.

Usage: make_nli_refs.py OUT_DIR
"""
import json
import math
import os
import sys

import torch
import transformers as tf
from tokenizers import Tokenizer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import make_tiny_encoders as mte  # noqa: E402  (tokenizer trainers, random init, config helpers)

GROUPS = [
    ["A fox jumps over the dog.", "The dog sleeps.", "A fox jumps over the dog.", "Blue", "Indigo or violet",
     "The girl walked her dog to the river."],
    ["Every morning a girl and her dog go to the river.", "Keys!", "She left the house at seven.",
     "The lazy dog sleeps in the sun.", "Le chat dort.", "Blue", "A robot learns to paint."],
    ["Numbers like 42 appear in text too!", "The cat sleeps on the sofa.", "It rains.", "Tell me a story.",
     "The quick brown fox.", "Don't forget the keys."],
    ["One", "Two"],
]
MARGIN = 1e-3


ATTEMPTS = 20  # draws tried per checkpoint (see main)


def entail_index(cfg):
    return [i for i in range(cfg.num_labels) if cfg.id2label[i].lower() == "entailment"][0]


def pair_logits(model, tok, a, b):
    enc = tok.encode(a, b)
    ids = torch.tensor([enc.ids])
    kw = dict(input_ids=ids, attention_mask=torch.ones_like(ids))
    if model.config.type_vocab_size > 1:
        kw["token_type_ids"] = torch.tensor([enc.type_ids])
    with torch.no_grad():
        return model(**kw).logits[0].double()


def make_model(name, out, tokdir, gen):
    if name == "roberta_nli":
        tok_file = os.path.join(tokdir, "bytelevel.json")
        tok = Tokenizer.from_file(tok_file)
        labels = {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}
        cfg = tf.RobertaConfig(**mte.bert_kw(tok.get_vocab_size(), pad_token_id=1, bos_token_id=0, eos_token_id=2,
                                             type_vocab_size=1, max_position_embeddings=130, layer_norm_eps=1e-5,
                                             id2label=labels, label2id={v: k for k, v in labels.items()}))
        model_cls = tf.RobertaForSequenceClassification
    else:
        tok_file = os.path.join(tokdir, "wordpiece.json")
        tok = Tokenizer.from_file(tok_file)
        labels = {0: "entailment", 1: "neutral", 2: "contradiction"}
        cfg = tf.BertConfig(**mte.bert_kw(tok.get_vocab_size(), id2label=labels,
                                          label2id={v: k for k, v in labels.items()}))
        model_cls = tf.BertForSequenceClassification
    cfg._attn_implementation = "eager"
    model = model_cls(cfg).eval()
    mte.randomize(model, gen)
    e = entail_index(cfg)
    texts = sorted({t for g in GROUPS for t in g})
    gaps = []
    for a in texts:
        for b in texts:
            lg = pair_logits(model, tok, a, b)
            others = torch.cat([lg[:e], lg[e + 1:]])
            gaps.append(float(others.max() - lg[e]))
    shift = sorted(gaps)[len(gaps) // 2]  # the median gap: about half the ordered pairs entail
    head = model.classifier.out_proj if hasattr(model.classifier, "out_proj") else model.classifier
    with torch.no_grad():
        head.bias[e] += shift + 1e-2
    ckpt = os.path.join(out, name)
    model.save_pretrained(ckpt)
    tok.save(os.path.join(ckpt, "tokenizer.json"))
    return ckpt, model, tok, e


def reference(model, tok, e, texts, lls):
    n = len(texts)
    prob = [[0.0] * n for _ in range(n)]
    entails = [[False] * n for _ in range(n)]
    margins = []
    for i in range(n):
        for j in range(n):
            lg = pair_logits(model, tok, texts[i], texts[j])
            prob[i][j] = float(torch.softmax(lg, 0)[e])
            others = torch.cat([lg[:e], lg[e + 1:]])
            entails[i][j] = bool(lg[e] > others.max())
            margins.append(abs(float(lg[e] - others.max())))
    nli_div = sum(prob[i][j] for i in range(n) for j in range(i + 1, n)) / (n * (n - 1) / 2) if n > 1 else 0.0
    # Kuhn et al. (2023), Algorithm 1.
    classes = []  # lists of member indices; classes[k][0] is the representative
    labels = []
    for m in range(n):
        for k, c in enumerate(classes):
            r = c[0]
            if entails[r][m] and entails[m][r]:
                c.append(m)
                labels.append(k)
                break
        else:
            classes.append([m])
            labels.append(len(classes) - 1)
    ll = torch.tensor(lls, dtype=torch.float64)
    total = torch.logsumexp(ll, 0)
    h = 0.0
    for c in classes:
        lp = float(torch.logsumexp(ll[c], 0) - total)
        h -= math.exp(lp) * lp
    h_uniform = -sum(len(c) / n * math.log(len(c) / n) for c in classes)
    return {"texts": texts, "log_likelihoods": lls, "entailment_prob": prob, "nli_diversity": nli_div,
            "clusters": labels, "semantic_entropy": h, "semantic_entropy_uniform": h_uniform,
            "min_margin": min(margins)}


def main(out):
    os.makedirs(out, exist_ok=True)
    tokdir = os.path.join(out, "_tokenizers")
    os.makedirs(tokdir, exist_ok=True)
    mte.wordpiece_tokenizer(os.path.join(tokdir, "wordpiece.json"))
    mte.bytelevel_tokenizer(os.path.join(tokdir, "bytelevel.json"))
    refs = {"models": []}
    for idx, name in enumerate(["roberta_nli", "bert_nli"]):
        # tokenizers' trainers break ties in hash order, so the vocabulary (and with it every input)
        # can differ between runs; a draw whose clusters are trivial or whose decisions come within
        # MARGIN of a tie is replaced by the next seed's, never accepted.
        for attempt in range(ATTEMPTS):
            gen = torch.Generator().manual_seed(7100 + idx + 100 * attempt)
            ckpt, model, tok, e = make_model(name, out, tokdir, gen)
            groups = []
            for g, texts in enumerate(GROUPS):
                # Sequence log-likelihoods of sampled outputs: tens of nats, one group far below exp's range.
                lls = [-(5.0 + 40.0 * torch.rand(1, generator=gen).item()) for _ in texts]
                if g == 1:
                    lls = [x - 900.0 for x in lls]
                groups.append(reference(model, tok, e, texts, lls))
            merged = sum(len(set(r["clusters"])) < len(r["texts"]) for r in groups)
            split = sum(len(set(r["clusters"])) > 1 for r in groups)
            margin = min(r["min_margin"] for r in groups)
            if merged >= 2 and split >= 3 and margin >= MARGIN:
                break
        else:
            sys.exit(f"{name}: no draw of {ATTEMPTS} had non-trivial clusters ({merged} merged, {split} split) "
                     f"and every entailment decision at least {MARGIN} from a tie (last: {margin})")
        refs["models"].append({"name": name, "path": ckpt, "entailment_index": e, "groups": groups})
    with open(os.path.join(out, "refs.json"), "w") as f:
        json.dump(refs, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
