"""Fixture: small SentencePiece models trained here on real text (NoveltyBench prompts and the
gettext catalogs under /usr/share/locale), and the Python sentencepiece encodings/decodings that
breadth's wrapper must reproduce.

usage: make_sentencepiece_refs.py <outdir>
  -> outdir/<name>.model, outdir/corpus.jsonl, outdir/ref_<name>.jsonl ({"ids", "decode"} per line),
     outdir/sp_dir_*/ (tokenizer.model + configuration) and outdir/sp_dirs.json (their references)
"""
import glob
import gettext
import json
import os
import random
import sys

import sentencepiece as spm

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
shared = os.environ.get("BREADTH_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
rng = random.Random(5)

texts = []
for path in sorted(glob.glob(os.path.join(shared, "data", "noveltybench", "*.jsonl"))):
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = json.loads(line).get("prompt")
            if isinstance(p, str):
                texts.append(p)
for path in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES/*.mo"))[::7]:
    try:
        with open(path, "rb") as f:
            cat = gettext.GNUTranslations(f)._catalog
    except Exception:
        continue
    vals = sorted(v for k, v in cat.items() if k and isinstance(v, str) and v.strip())
    texts.extend(vals[:6])
texts = list(dict.fromkeys(t for t in texts if t.strip()))
rng.shuffle(texts)
train, test = texts[: len(texts) * 3 // 4], texts[len(texts) * 3 // 4:]
test += ["  two  spaces ", "tabs\tand\nnewlines", "emoji 😀🫠 and CJK 日本語", "<s> not special </s>", "\u00a0x",
         "e\u0301 NFKC ﬁ Ｈｅｌｌｏ ①"]
with open(os.path.join(out, "train.txt"), "w", encoding="utf-8") as f:
    for t in train:
        f.write(t.replace("\n", " ") + "\n")
with open(os.path.join(out, "corpus.jsonl"), "w", encoding="utf-8") as f:
    for t in test:
        f.write(json.dumps(t, ensure_ascii=False) + "\n")

models = {
    "bpe_bytefallback": dict(model_type="bpe", vocab_size=3000, byte_fallback=True),
    "unigram": dict(model_type="unigram", vocab_size=3000),
}
for name, kw in models.items():
    spm.SentencePieceTrainer.train(input=os.path.join(out, "train.txt"), model_prefix=os.path.join(out, name),
                                   character_coverage=0.98, minloglevel=2, num_threads=2, **kw)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(out, name + ".model"))
    with open(os.path.join(out, f"ref_{name}.jsonl"), "w", encoding="utf-8") as f:
        for t in test:
            ids = sp.encode(t)
            f.write(json.dumps({"ids": ids, "decode": sp.decode(ids)}, ensure_ascii=False) + "\n")
print(f"{len(train)} training lines, {len(test)} test lines")

# Directories holding only tokenizer.model plus configuration: what Tokenizer::load must read from
# tokenizer_config.json / chat_template.jinja / generation_config.json. transformers' LlamaTokenizer
# gives the special ids and the rendered template; the ids with add_special are sentencepiece's with
# BOS/EOS as the flags say.
import shutil

from transformers import LlamaTokenizer

TEMPLATE = ("{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]"
            "{% else %} {{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}")
dirs = {
    "sp_dir_config": ({"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<unk>", "add_bos_token": True,
                       "add_eos_token": True, "chat_template": TEMPLATE}, None, {"eos_token_id": [2, 7]}),
    "sp_dir_jinja": ({"add_bos_token": False}, TEMPLATE.replace("[INST]", "<<USER>>"), None),
}
facts = []
sp = spm.SentencePieceProcessor(model_file=os.path.join(out, "bpe_bytefallback.model"))
for name, (cfg, jinja, gen) in dirs.items():
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(out, "bpe_bytefallback.model"), os.path.join(d, "tokenizer.model"))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(dict(cfg, tokenizer_class="LlamaTokenizer"), f)
    if jinja:
        with open(os.path.join(d, "chat_template.jinja"), "w") as f:
            f.write(jinja)
    if gen:
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump(gen, f)
    ref = LlamaTokenizer.from_pretrained(d)
    add_bos, add_eos = cfg.get("add_bos_token", True), cfg.get("add_eos_token", False)
    lines = []
    for t in test[:60]:
        ids = ([sp.bos_id()] if add_bos else []) + sp.encode(t) + ([sp.eos_id()] if add_eos else [])
        lines.append({"text": t, "ids_special": ids})
    eos_ids = list(dict.fromkeys([ref.eos_token_id] + (gen or {}).get("eos_token_id", [])))
    facts.append({"name": name, "path": d, "bos_id": ref.bos_token_id, "eos_ids": eos_ids,
                  "pad_id": ref.pad_token_id,
                  "chat": ref.apply_chat_template([{"role": "user", "content": "Hi there"}], tokenize=False,
                                                  add_generation_prompt=True),
                  "lines": lines})
with open(os.path.join(out, "sp_dirs.json"), "w", encoding="utf-8") as f:
    json.dump(facts, f, ensure_ascii=False, indent=1)
