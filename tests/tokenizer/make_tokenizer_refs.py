"""Fixture for the tokenizer tests: a multilingual corpus gathered from real text on this machine, and
the reference ids/decodes of every tokenizer under test, computed with Hugging Face `tokenizers`
(and transformers for the GGUF vocabulary).

usage: make_tokenizer_refs.py <outdir>

Writes into <outdir>:
  corpus.jsonl              one JSON string per line (a text to encode)
  manifest.json             [{"name", "path", "ref"}]: what to load and where its references are
  ref_<name>.jsonl          per corpus line: {"ids", "ids_special", "decode", "decode_skip"}
  variants/<name>/tokenizer.json  synthetic pipelines (real vocabularies, other stages) that exercise
                            stages the real tokenizers do not use
  gguf/                     GGUF files with SentencePiece-style vocabularies, facts.json, the merges
                            transformers derives from scores, and bad files (gguf_vocab_sets.py)
  unigram/<name>/tokenizer.json  Unigram tokenizers trained here (unigram_sets.py)
"""
import gettext
import glob
import json
import os
import random
import sys
import unicodedata

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

OUT = sys.argv[1]
SHARED = os.environ.get("BREADTH_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
MODELS = os.environ.get("BREADTH_MODELS_DIR", os.path.expanduser("~/.cache/breadth/models"))
TOK_DIR = os.path.join(SHARED, "data", "tokenizers")
rng = random.Random(1234)


# ------------------------------------------------------------------------------------------ corpus
def mo_strings():
    """Translated messages from the gettext catalogs installed under /usr/share/locale."""
    by_lang = {}
    for path in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES/*.mo")):
        lang = path.split("/")[4]
        try:
            with open(path, "rb") as f:
                cat = gettext.GNUTranslations(f)._catalog
        except Exception:
            continue
        for k, v in cat.items():
            if isinstance(v, str) and v.strip() and k:
                by_lang.setdefault(lang, []).append(v)
    out = []
    for lang in sorted(by_lang):
        msgs = sorted(set(by_lang[lang]))
        rng.shuffle(msgs)
        out.extend(msgs[:12])
    return out


def noveltybench():
    out = []
    for path in sorted(glob.glob(os.path.join(SHARED, "data", "noveltybench", "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if isinstance(rec.get("prompt"), str):
                    out.append(rec["prompt"])
                for p in rec.get("prompt_paraphrases") or []:
                    if isinstance(p, str):
                        out.append(p)
    # Keep each text once, in first-seen order.
    return list(dict.fromkeys(out))


def code_chunks():
    """Chunks of real source code (Python stdlib and C headers), several lines each."""
    files = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))[:40]
    files += sorted(glob.glob("/usr/include/*.h"))[:20]
    out = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except Exception:
            continue
        for start in range(0, min(len(lines), 200), 25):
            chunk = "\n".join(lines[start:start + rng.randint(3, 12)])
            if chunk.strip():
                out.append(chunk)
    return out


def edge_cases():
    specials = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<s>", "</s>", "<unk>", "[CLS]", "[SEP]",
                "[MASK]", "[PAD]", "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<think>",
                "</think>", "<|end_of_text|>", "<repo_name>"]
    ws = ["\t", "\n", "\r\n", "\r", "\u00a0", "\u2003", "\u3000", "\u200b", "\u2028", "\u0085", "\u000b",
          "\u000c", "  ", "   ", "\n\n", " \n ", "\u202f", "\u1680", "\ufeff"]
    pieces = ["Hello", "world", "it's", "DON'T", "they'll", "12345", "3.14", "1,000,000", "x=y+1;", "😀",
              "👍🏽", "👨‍👩‍👧", "🇫🇷", "🫠", "日本語", "中文", "한국어", "مرحبا", "שלום", "नमस्ते", "ไทย",
              "Ελληνικά", "Ωμέγα", "ΣΑΣ", "İstanbul", "Straße", "ẞ", "ﬁ", "Ｈｅｌｌｏ", "①②", "x²", "Ⅻ",
              "e\u0301", "n\u0303", "a\u0308\u0301", "\u0301lone", "ǅ", "café", "naïve", "Å", "\u212b",
              "\x00", "\x07", "\x1b[0m", "\ue000", "\U0010fffd", "\ufffd", "_", "__init__", "#!/bin/sh",
              "https://example.com/a?b=c&d=e", "user@example.org", "C++", "—", "…", "«»", "„“", "¿Qué?",
              "a" * 130, "supercalifragilisticexpialidocious", "0x1F", "v1.2.3", "'s", "'S", "’s"]
    out = []
    for _ in range(220):
        n = rng.randint(2, 9)
        parts = []
        for _ in range(n):
            r = rng.random()
            if r < 0.2:
                parts.append(rng.choice(specials))
            elif r < 0.45:
                parts.append(rng.choice(ws))
            else:
                parts.append(rng.choice(pieces))
            if rng.random() < 0.5:
                parts.append(" ")
        out.append("".join(parts))
    out += specials + ["".join(specials)] + [w * 3 for w in ws] + pieces
    out += [" leading", "trailing ", "  two leading", "\tx", "x\t", "\n", " ", "  ", "a  b", "a\u00a0b"]
    return out


def build_corpus():
    texts = noveltybench() + mo_strings() + code_chunks() + edge_cases()
    # Decomposed (NFD) copies of some accented text exercise combining marks.
    accented = [t for t in texts if any(unicodedata.decomposition(c) for c in t)][:150]
    texts += [unicodedata.normalize("NFD", t) for t in accented]
    texts = [t for t in texts if t != ""]
    return list(dict.fromkeys(texts))


# ------------------------------------------------------------------------------------------ references
def write_refs(name, tok, corpus, path, manifest, subset=None):
    lines = corpus if subset is None else corpus[:subset]
    with open(os.path.join(OUT, f"ref_{name}.jsonl"), "w", encoding="utf-8") as f:
        for text in lines:
            ids = tok.encode(text, add_special_tokens=False).ids
            ids_special = tok.encode(text, add_special_tokens=True).ids
            rec = {
                "ids": ids,
                "ids_special": ids_special,
                "decode": tok.decode(ids, skip_special_tokens=False),
                "decode_skip": tok.decode(ids_special, skip_special_tokens=True),
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    manifest.append({"name": name, "path": path, "ref": f"ref_{name}.jsonl", "lines": len(lines)})


def gpt2_reference(d):
    """GPT-2's original files as transformers' GPT2Tokenizer reads them."""
    t = Tokenizer(models.BPE.from_file(os.path.join(d, "encoder.json"), os.path.join(d, "vocab.bpe")))
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    t.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    return t


def variant(name, base_json, edit, corpus, manifest):
    """A real vocabulary with other pipeline stages; the reference is tokenizers loading the same file."""
    j = json.loads(json.dumps(base_json))
    edit(j)
    d = os.path.join(OUT, "variants", name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    tok = Tokenizer.from_file(path)
    write_refs(name, tok, corpus, path, manifest, subset=600)


def added(id_, content, **kw):
    rec = {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
           "normalized": False, "special": False}
    rec.update(kw)
    return rec


def make_variants(corpus, manifest):
    with open(os.path.join(TOK_DIR, "llama2", "tokenizer.json"), encoding="utf-8") as f:
        llama2 = json.load(f)
    with open(os.path.join(MODELS, "all-minilm-l6-v2", "tokenizer.json"), encoding="utf-8") as f:
        minilm = json.load(f)
    with open(os.path.join(TOK_DIR, "qwen3", "tokenizer.json"), encoding="utf-8") as f:
        qwen3 = json.load(f)
    minilm["truncation"] = None
    minilm["padding"] = None

    def metaspace_first(j):
        j["normalizer"] = None
        j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
        j["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
            {"type": "ByteFallback"}, {"type": "Fuse"}]}
        j["added_tokens"] += [added(32000, "<mask>", lstrip=True, special=True),
                              added(32001, "[X]", rstrip=True),
                              added(32002, "world", single_word=True),
                              added(32003, "hello there", normalized=True)]

    def metaspace_always(j):
        j["normalizer"] = {"type": "NFKC"}
        j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
        j["decoder"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
        j["model"]["ignore_merges"] = True
        j["model"]["fuse_unk"] = False
        j["model"]["byte_fallback"] = False

    def bert_variant(j):
        j["normalizer"] = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": False,
                           "strip_accents": True, "lowercase": False}
        j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "Isolated"},
            {"type": "Digits", "individual_digits": True}]}
        j["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}
        j["decoder"] = {"type": "WordPiece", "prefix": "##", "cleanup": False}

    def bert_sequence(j):
        j["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "NFD"}, {"type": "StripAccents"}, {"type": "Lowercase"},
            {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}]}
        j["pre_tokenizer"] = {"type": "Whitespace"}
        j["post_processor"] = {"type": "RobertaProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101],
                               "trim_offsets": True, "add_prefix_space": False}
        j["model"]["max_input_chars_per_word"] = 12

    def bytelevel_splits(j):
        j["normalizer"] = {"type": "NFKD"}
        j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithNext", "invert": False},
            {"type": "Digits", "individual_digits": False},
            {"type": "Split", "pattern": {"Regex": "\\p{P}+"}, "behavior": "MergedWithPrevious", "invert": False},
            {"type": "Split", "pattern": {"Regex": "[aeiou]"}, "behavior": "Contiguous", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}]}
        j["post_processor"] = {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": "<|im_start|>", "type_id": 0}},
                                          {"Sequence": {"id": "A", "type_id": 0}},
                                          {"SpecialToken": {"id": "<|im_end|>", "type_id": 0}}],
                               "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                               "special_tokens": {"<|im_start|>": {"id": "<|im_start|>", "ids": [151644], "tokens": ["<|im_start|>"]},
                                                  "<|im_end|>": {"id": "<|im_end|>", "ids": [151645], "tokens": ["<|im_end|>"]}}}
        j["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}, {"type": "Replace", "pattern": {"Regex": "[0-9]+"}, "content": "#"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 1}]}

    def removed_splits(j):
        j["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "Lowercase"}, {"type": "Prepend", "prepend": "> "},
                                                               {"type": "Replace", "pattern": {"String": "e"}, "content": "E"}]}
        j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": False},
            {"type": "CharDelimiterSplit", "delimiter": "o"},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}
        j["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
        j["added_tokens"] += [added(151669, "Hello", single_word=True, lstrip=True, rstrip=True),
                              added(151670, "e", normalized=True)]

    variant("v_metaspace_first", llama2, metaspace_first, corpus, manifest)
    variant("v_metaspace_always", llama2, metaspace_always, corpus, manifest)
    variant("v_bert_punct_digits", minilm, bert_variant, corpus, manifest)
    variant("v_bert_sequence", minilm, bert_sequence, corpus, manifest)
    variant("v_bytelevel_splits", qwen3, bytelevel_splits, corpus, manifest)
    variant("v_removed_splits", qwen3, removed_splits, corpus, manifest)


def main():
    os.makedirs(OUT, exist_ok=True)
    corpus = build_corpus()
    with open(os.path.join(OUT, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for t in corpus:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    manifest = []
    for name in ["qwen3", "llama3_1", "llama2"]:
        d = os.path.join(TOK_DIR, name)
        write_refs(name, Tokenizer.from_file(os.path.join(d, "tokenizer.json")), corpus, d, manifest)
    write_refs("gpt2", gpt2_reference(os.path.join(TOK_DIR, "gpt2")), corpus, os.path.join(TOK_DIR, "gpt2"), manifest)
    minilm_dir = os.path.join(MODELS, "all-minilm-l6-v2")
    minilm = Tokenizer.from_file(os.path.join(minilm_dir, "tokenizer.json"))
    minilm.no_padding()
    minilm.no_truncation()
    write_refs("minilm", minilm, corpus, minilm_dir, manifest)
    gguf = os.path.join(MODELS, "smollm2-135m-instruct.gguf")
    if not os.path.exists(gguf) and os.environ.get("BREADTH_ALLOW_MISSING_MODELS") != "1":
        sys.exit(f"{gguf} is missing: run `make setup` (scripts/setup.sh) to download it "
                 "(or set BREADTH_ALLOW_MISSING_MODELS=1 to leave its reference set out)")
    if os.path.exists(gguf):
        from transformers import AutoTokenizer
        ref = AutoTokenizer.from_pretrained(os.path.dirname(gguf), gguf_file=os.path.basename(gguf))
        # The file says tokenizer.ggml.pre = "smollm": SmolLM2's own tokenizer.json splits digits one
        # by one before GPT-2's byte-level regex (transformers' GGUF conversion does not).
        backend = ref.backend_tokenizer
        backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                         pre_tokenizers.ByteLevel(add_prefix_space=False)])
        write_refs("smollm2_gguf", backend, corpus, gguf, manifest)
    # SentencePiece-style GGUF vocabularies (llama/gemma/phi3/gemma4) over the real Llama-2 vocabulary.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gguf_vocab_sets import make_gguf_sets
    make_gguf_sets(OUT, TOK_DIR, corpus, manifest, write_refs)
    # gpt2 vocabularies under every tokenizer.ggml.pre group, BERT WordPiece, and files to refuse.
    from gguf_pre_sets import make_pre_sets
    make_pre_sets(OUT, TOK_DIR, MODELS, corpus, manifest, write_refs)
    # Unigram models (tokenizers' trainer; SentencePiece converted by transformers, Precompiled).
    from unigram_sets import make_unigram_sets
    make_unigram_sets(OUT, corpus, manifest, write_refs)
    # tokenizer.ggml.model = "t5" (llama.cpp's UGM) from a SentencePiece unigram model, as llama.cpp converts it.
    from ugm_sets import make_ugm_sets
    make_ugm_sets(OUT, corpus, manifest, write_refs)
    make_variants(corpus, manifest)
    with open(os.path.join(OUT, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    print(f"corpus: {len(corpus)} lines; {len(manifest)} tokenizers")


if __name__ == "__main__":
    main()
