"""Seeds for the tokenizer fuzz targets: small tokenizer.json files cut from the real tokenizers
(each pipeline kept, vocabulary cut to a few hundred ids) and short texts.

usage: make_fuzz_tokenizer_seeds.py <outdir>  ->  outdir/json/*.json, outdir/text/*.txt
"""
import json
import os
import shutil
import sys

out = sys.argv[1]
shared = os.environ.get("BREADTH_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
models_dir = os.environ.get("BREADTH_MODELS_DIR", os.path.expanduser("~/.cache/breadth/models"))
for sub in ("json", "text"):
    shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    os.makedirs(os.path.join(out, sub))


def cut(j, keep=400):
    """The same pipeline with only the tokens of id < keep and the merges among them."""
    m = j["model"]
    vocab = {t: i for t, i in m["vocab"].items() if i < keep}
    m["vocab"] = vocab
    if "merges" in m:
        kept = []
        for mg in m["merges"]:
            a, b = mg.split(" ", 1) if isinstance(mg, str) else mg
            if a in vocab and b in vocab and a + b in vocab:
                kept.append(mg)
        m["merges"] = kept
    j["added_tokens"] = [dict(a, id=keep + k) for k, a in enumerate(j.get("added_tokens", [])[:8])]
    j["truncation"] = None
    j["padding"] = None
    return j


sources = {name: os.path.join(shared, "data", "tokenizers", name, "tokenizer.json") for name in ("qwen3", "llama3_1", "llama2")}
sources["minilm"] = os.path.join(models_dir, "all-minilm-l6-v2", "tokenizer.json")
for name, path in sources.items():
    if not os.path.exists(path):
        # Every seed source is required; only setup's download (MiniLM) may be left out, and only under
        # the explicit opt-out.
        if name == "minilm" and os.environ.get("BREADTH_ALLOW_MISSING_MODELS") == "1":
            print(f"{path} is missing (BREADTH_ALLOW_MISSING_MODELS=1): no {name} seed")
            continue
        sys.exit(f"{path} is missing: run `make setup` (scripts/setup.sh)"
                 + ("" if name == "minilm" else "; the tokenizers live in ../shared (BREADTH_SHARED_DIR)"))
    with open(path, encoding="utf-8") as f:
        j = cut(json.load(f))
    with open(os.path.join(out, "json", name + ".json"), "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)

texts = ["Hello world! It's 2024.", "  spaces\tand\nlines  ", "日本語 中文 한국어 مرحبا", "😀👍🏽🇫🇷",
         "<|im_start|>user<|im_end|><s></s>[CLS]", "e\u0301 ﬁ Ｈｅｌｌｏ", "def f(x):\n    return x**2\n"]
for k, t in enumerate(texts):
    with open(os.path.join(out, "text", f"t{k}.txt"), "wb") as f:
        f.write(t.encode("utf-8"))
with open(os.path.join(out, "text", "invalid.txt"), "wb") as f:
    f.write(b"ab\xff\xc3(\xe2\x82 \xf0\x9f\x98")

# A Unigram model with SentencePiece's Precompiled normalizer (T5-style), trained here on a few lines.
try:
    import sentencepiece as spm
    import transformers

    lines = ["Hello world, this is a small corpus.", "Ｈｅｌｌｏ ﬁ ①②", "e\u0301 café naïve", "日本語のテキスト",
             "def f(x):\n    return x**2", "Unigram models score pieces.", "tabs\tand\r\nnewlines"] * 20
    d = os.path.join(out, "spm_src")
    os.makedirs(d, exist_ok=True)
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_prefix=os.path.join(d, "spiece"), vocab_size=80,
                                   model_type="unigram", hard_vocab_limit=False, minloglevel=2)
    t = transformers.T5Tokenizer.from_pretrained(d, extra_ids=3)
    j = json.loads(t.backend_tokenizer.to_str())
    j["truncation"] = None
    j["padding"] = None
    with open(os.path.join(out, "json", "t5_unigram_precompiled.json"), "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    shutil.rmtree(d, ignore_errors=True)
except ImportError:
    pass


# GGUF vocabularies (outdir/gguf): small files of each vocabulary type breadth reads, written with
# gguf-py, for fuzz_tokenizer_gguf.
def gguf_seeds():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gguf_vocab_sets import BYTE, CONTROL, NORMAL, write_gguf

    d = os.path.join(out, "gguf")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    tok_dir = os.path.join(shared, "data", "tokenizers")
    with open(os.path.join(tok_dir, "gpt2", "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    tokens = [t for t, i in sorted(vocab.items(), key=lambda x: x[1]) if i < 400]
    kept = set(tokens)
    with open(os.path.join(tok_dir, "gpt2", "vocab.bpe"), encoding="utf-8") as f:
        merges = [l for l in f.read().split("\n")[1:] if l and all(p in kept for p in l.split(" ")) and
                  l.replace(" ", "") in kept]
    for pre in ("falcon", "llama-bpe", "deepseek-coder", "default", "kimi-k2", "afmoe"):
        write_gguf(os.path.join(d, f"gpt2_{pre}.gguf"), "gpt2", tokens, [NORMAL] * len(tokens), None, merges=merges,
                   model="gpt2", bos=0, eos=0, unk=None, pre=pre)
    bert = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + ["\u2581" + t for t in "abcdefghij"] + list("abcdefghij")
    write_gguf(os.path.join(d, "bert.gguf"), "bert", bert, [CONTROL] * 5 + [NORMAL] * 20, None, model="bert",
               bos=None, eos=None, unk=1, pad=0,
               extra={"tokenizer.ggml.cls_token_id": 2, "tokenizer.ggml.seperator_token_id": 3})
    spm = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + ["\u2581", "\u2581a", "ab", "\u2581ab"]
    types = [2, CONTROL, CONTROL] + [BYTE] * 256 + [NORMAL] * 4
    write_gguf(os.path.join(d, "llama.gguf"), "llama", spm, types, [0.0] * 259 + [-1.0, -2.0, -3.0, -4.0])
    spm_merges = ["\u2581 a", "a b", "\u2581 ab"]
    write_gguf(os.path.join(d, "gpt2_gemma4.gguf"), "llama", spm, types, None, merges=spm_merges, model="gpt2",
               pre="gemma4")
    write_gguf(os.path.join(d, "whitespace.gguf"), "llama", spm, types, None, merges=spm_merges, model="whitespace",
               pre="whitespace")
    # RWKV: tokens escaped as the converter writes them (repr(bytes)[2:-1]), every byte present.
    rwkv = ["<s>"] + [repr(bytes([b]))[2:-1] for b in range(256)] + ["ab", "\\xe4\\xbd\\xa0", "\\n\\n", "[PAD1]"]
    write_gguf(os.path.join(d, "rwkv.gguf"), "rwkv6", rwkv, [CONTROL] + [NORMAL] * 259 + [5], None, model="rwkv",
               bos=0, eos=0, unk=None, pre=None)


gguf_seeds()
