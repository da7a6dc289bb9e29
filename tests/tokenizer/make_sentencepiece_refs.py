"""Fixture: small SentencePiece models trained here on real text (NoveltyBench prompts and the
gettext catalogs under /usr/share/locale), and the Python sentencepiece encodings/decodings that
breadth's wrapper must reproduce.

usage: make_sentencepiece_refs.py <outdir>
  -> outdir/<name>.model, outdir/corpus.jsonl, outdir/ref_<name>.jsonl ({"ids", "decode"} per line)
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
