"""The fine-tuned BERT router's training, run in PyTorch/transformers as the independent reference.

Usage: python make_bert_router_reference.py OUTDIR

Writes
  OUTDIR/encoder/      a tiny random BertModel (2 layers, hidden 32) with a WordPiece tokenizer.
  OUTDIR/table.jsonl   a routing table: 12 queries x 3 models, seeded random div-cov.
  OUTDIR/reference.json
      options (the BertRouterOptions the C++ test uses) and split; the per-step training losses,
      per-epoch validation losses, the kept epoch, and the final router's softmax scores of every
      query, from transformers' BertModel (no dropout), mean pooling over the mask, a Linear head
      initialized as breadth does ((rand*2-1)/sqrt(hidden) from torch.Generator().manual_seed(seed),
      weight then bias), the same generator's randperm each epoch, softmax cross-entropy against
      the normalized soft labels, torch.optim.AdamW, and early stopping on the validation loss.
  OUTDIR/final.safetensors  the kept weights: the encoder's (BertModel names) and head.weight/bias.
"""

import copy
import json
import math
import os
import sys

import torch
import transformers as tf
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import make_tiny_encoders as me  # noqa: E402

MODELS = ["alpha", "beta", "gamma"]
QUERIES = ["name a color", "tell me a joke about a cat", "write a poem about rain", "name a fruit",
           "what is the capital of france", "list three animals", "give me a random number",
           "describe the sea at night", "name a famous painter", "suggest a name for a dog",
           "what should i cook tonight", "write a haiku about the moon"]
OPTIONS = dict(max_length=16, learning_rate=1e-3, weight_decay=0.01, batch_size=3, max_epochs=3, patience=5,
               seed=7)
SPLIT = dict(train=[0, 1, 2, 3, 4, 5, 6, 7], val=[8, 9], test=[10, 11])


def encoder(out):
    os.makedirs(out, exist_ok=True)
    me.wordpiece_tokenizer(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
                   "model_max_length": 128, "do_lower_case": True, "tokenizer_class": "BertTokenizerFast"}, f)
    from tokenizers import Tokenizer
    V = Tokenizer.from_file(os.path.join(out, "tokenizer.json")).get_vocab_size()
    model = tf.BertModel(tf.BertConfig(**me.bert_kw(V)), add_pooling_layer=False).eval()
    me.randomize(model, torch.Generator().manual_seed(31))
    model.save_pretrained(out)


def main(out):
    os.makedirs(out, exist_ok=True)
    enc_dir = os.path.join(out, "encoder")
    encoder(enc_dir)
    gen = torch.Generator().manual_seed(5)
    div_cov = torch.rand(len(QUERIES), len(MODELS), generator=gen, dtype=torch.float64)
    with open(os.path.join(out, "table.jsonl"), "w") as f:
        for q, text in enumerate(QUERIES):
            for m, name in enumerate(MODELS):
                f.write(json.dumps({"query_id": f"q{q}", "query": text, "model": name,
                                    "div_cov": div_cov[q, m].item(), "unq": 1, "qual": 1, "unq_qual": 1}) + "\n")

    o = OPTIONS
    tok = tf.AutoTokenizer.from_pretrained(enc_dir)
    model = tf.BertModel.from_pretrained(enc_dir, add_pooling_layer=False, attn_implementation="eager").eval()
    M, H = len(MODELS), model.config.hidden_size

    def soft(rows):
        d = div_cov[rows].to(torch.float32)
        mx = d.max(1, keepdim=True).values
        y = torch.where(mx > 0, d / torch.where(mx > 0, mx, torch.ones_like(mx)), torch.ones_like(d))
        return y / y.sum(1, keepdim=True)

    def logits(texts, w, b):
        t = tok(texts, truncation=True, max_length=o["max_length"], padding=True, return_tensors="pt")
        h = model(input_ids=t["input_ids"], attention_mask=t["attention_mask"],
                  token_type_ids=t["token_type_ids"]).last_hidden_state
        m = t["attention_mask"].to(torch.float32).unsqueeze(-1)
        pooled = (h * m).sum(1) / m.sum(1).clamp_min(1e-9)
        return pooled @ w.T + b

    def ce(lg, y):
        return -(y * torch.log_softmax(lg, -1)).sum(1).mean()

    g = torch.Generator().manual_seed(o["seed"])
    bound = 1.0 / math.sqrt(H)
    w = ((torch.rand(M, H, generator=g) * 2 - 1) * bound).requires_grad_(True)
    b = ((torch.rand(M, generator=g) * 2 - 1) * bound).requires_grad_(True)
    opt = torch.optim.AdamW(list(model.parameters()) + [w, b], lr=o["learning_rate"],
                            weight_decay=o["weight_decay"])
    train, val = SPLIT["train"], SPLIT["val"]
    y_train, y_val = soft(train), soft(val)
    losses, val_losses = [], []
    best, best_loss, best_epoch, since = None, math.inf, 0, 0
    for epoch in range(o["max_epochs"]):
        if since >= o["patience"]:
            break
        perm = torch.randperm(len(train), generator=g)
        for start in range(0, len(train), o["batch_size"]):
            idx = perm[start:start + o["batch_size"]].tolist()
            opt.zero_grad()
            loss = ce(logits([QUERIES[train[i]] for i in idx], w, b), y_train[idx])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            vl = ce(logits([QUERIES[i] for i in val], w, b), y_val).item()
        val_losses.append(vl)
        if vl < best_loss:
            best_loss, best_epoch, since = vl, epoch + 1, 0
            best = (copy.deepcopy(model.state_dict()), w.detach().clone(), b.detach().clone())
        else:
            since += 1
    model.load_state_dict(best[0])
    with torch.no_grad():
        scores = torch.softmax(logits(QUERIES, best[1], best[2]), -1)
    tensors = {k: v.contiguous() for k, v in best[0].items() if not k.endswith("position_ids")}
    tensors["head.weight"], tensors["head.bias"] = best[1].contiguous(), best[2].contiguous()
    save_file(tensors, os.path.join(out, "final.safetensors"))
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"options": o, "split": SPLIT, "models": MODELS, "losses": losses, "val_losses": val_losses,
                   "best_epoch": best_epoch, "scores": scores.tolist()}, f)


if __name__ == "__main__":
    main(sys.argv[1])
