"""GGUF vocabularies of the other llama.cpp vocabulary types, written with gguf-py, and the reference
for each: Hugging Face `tokenizers` built from the same vocabulary (and merges) with the pipeline of
the model the vocabulary comes from. Used by make_tokenizer_refs.py; nothing here is committed output.

- tokenizer.ggml.model = "gpt2" with each tokenizer.ggml.pre group llama.cpp knows: GPT-2's real
  vocabulary and merges under that value; the reference is BPE over the same vocabulary with the
  pre-tokenizer of that model's own tokenizer.json (ignore_merges where the model sets it).
- tokenizer.ggml.model = "bert": all-MiniLM-L6-v2's WordPiece vocabulary stored as llama.cpp's
  converter stores it (word-initial pieces with a leading U+2581, continuations bare); the
  reference is that model's tokenizer.json.
- The pre values whose tokenizer is no byte-level regex split: "kimi-k2" (Moonshot's tiktoken pattern,
  written here with the class intersection `&&` Oniguruma reads, as tokenization_kimi.py writes it),
  "afmoe" (digit groups of three from the right, Asian-script runs, DeepSeek-V3's pattern); "gemma4",
  "granite-embed-multi-311m", "sarvam-moe" (SentencePiece-style BPE over raw UTF-8: Llama-2's vocabulary
  and merges, spaces as U+2581 in a normalizer, byte fallback) and "whitespace" (jina-embeddings-v2-
  base-zh: lowercase, WhitespaceSplit, BPE over raw UTF-8), each as a tokenizers pipeline.
- tokenizer.ggml.model = "rwkv": a world-style vocabulary (every byte, GPT-2's tokens as bytes)
  stored escaped as the converter stores it; the reference is the RWKV world tokenizer's algorithm
  (greedy longest byte prefix over a trie) written here from the vocabulary, not from breadth.
- Files breadth must refuse, each naming the value: an unknown pre, a pre llama.cpp knows whose
  tokenizer breadth lacks, a vocabulary type breadth lacks.
"""
import json
import os

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

from gguf_vocab_sets import CONTROL, NORMAL, UNUSED, llama2_vocab, write_gguf

P = pre_tokenizers

GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN2 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN35 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
TEKKEN = r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
GPT4O = r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
SEED_CODER = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"""
BAILING = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
EXAONE_MOE = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+"""
DEEPSEEK_V3 = r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
# Moonshot's pat_str (tokenization_kimi.py), Han excluded from the letter classes by intersection.
KIMI_K2 = "|".join([
    r"""[\p{Han}]+""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
# AFMoE's digits: a leading group of one or two where the run's length asks for it, then threes.
AFMOE_DIGITS = r"(?<!\p{N})\p{N}{1,2}(?=(?:\p{N}{3})*(?!\p{N}))|\p{N}{3}"
AFMOE_CJK = "[一-鿿㐀-䶿豈-﫿぀-ゟ゠-ヿ･-ﾟ⼀-⿟เ-๿຀-໿ក-៿က-႟ꩠ-ꩿꧠ-꧿가-힯ᄀ-ᇿ]+"
CJK_KANA = "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"
DEEPSEEK_CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"
# BLOOM's tokenizer.json regex, a nested character class as Oniguruma reads it.
BLOOM = " ?[^(\\s|[.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c])]+"


def split(regex, behavior="isolated"):
    return P.Split(Regex(regex), behavior=behavior, invert=False)


def bytes_after(*stages):
    return P.Sequence(list(stages) + [P.ByteLevel(add_prefix_space=False, use_regex=False)])


BYTE_LEVEL = P.ByteLevel(add_prefix_space=False, use_regex=True)

# tokenizer.ggml.pre value -> (the model's pre-tokenizer, ignore_merges). One value per group of
# llama-vocab.cpp (the other names of a group select the same pre-tokenizer).
PRE_SETS = {
    "gpt-2": (lambda: BYTE_LEVEL, False),
    "llama-bpe": (lambda: bytes_after(split(LLAMA3)), True),
    "dbrx": (lambda: bytes_after(split(LLAMA3)), False),
    "qwen2": (lambda: bytes_after(split(QWEN2)), False),
    "qwen35": (lambda: bytes_after(split(QWEN35)), False),
    "seed-coder": (lambda: bytes_after(split(SEED_CODER)), False),
    "bailingmoe": (lambda: bytes_after(split(BAILING)), False),
    "exaone-moe": (lambda: bytes_after(split(EXAONE_MOE)), False),
    "deepseek-llm": (lambda: P.Sequence([
        split("[\r\n]"),
        split("\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af"
              "\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5"
              "\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba"
              "\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45"
              "\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe"
              "\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc"
              "\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139"
              "\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3"
              "\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06"
              "\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3"
              "\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df"
              "\U0001e900-\U0001e943]+"),
        split("\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+"), split("\\s+$"),
        split(DEEPSEEK_CJK), P.Digits(individual_digits=False),
        P.ByteLevel(add_prefix_space=False, use_regex=False)]), False),
    "deepseek-coder": (lambda: P.Sequence([
        split("[\r\n]"), split(r"\s?\p{L}+"), split(r"\s?\p{P}+"), split(DEEPSEEK_CJK),
        P.Digits(individual_digits=True), P.ByteLevel(add_prefix_space=False, use_regex=False)]), False),
    "deepseek-v3": (lambda: bytes_after(split(r"\p{N}{1,3}"), split(CJK_KANA), split(DEEPSEEK_V3)), False),
    "falcon": (lambda: P.Sequence([P.Punctuation(behavior="contiguous"), BYTE_LEVEL,
                                   P.Digits(individual_digits=False), split("[0-9][0-9][0-9]")]), False),
    "starcoder": (lambda: P.Sequence([P.Digits(individual_digits=True), BYTE_LEVEL]), False),
    "bloom": (lambda: bytes_after(split(BLOOM)), False),
    "viking": (lambda: bytes_after(split(BLOOM), P.Digits(individual_digits=True)), False),
    "tekken": (lambda: bytes_after(split(TEKKEN)), True),
    "chameleon": (lambda: P.Sequence([
        split("<sentinel:[0-9]+>"), split("(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z"), split("([\\t\\n]|    |  )"),
        P.Digits(individual_digits=True), P.Punctuation(behavior="isolated"), BYTE_LEVEL]), False),
    "gpt-4o": (lambda: bytes_after(split(GPT4O)), False),
    "tiny_aya": (lambda: bytes_after(split(r"\d{1,3}(?=(?:\d{3})*\b)"), split(GPT4O)), False),
    "minicpm5": (lambda: bytes_after(split(r"\p{N}{1,3}"), split(QWEN2.replace(r"\p{N}|", r"\p{N}+|"))), True),
    "superbpe": (lambda: bytes_after(split(r"\p{N}+"), split(r"(?=(\d{3})+(?!\d))")), False),
    "kimi-k2": (lambda: bytes_after(split(KIMI_K2)), True),
    "afmoe": (lambda: bytes_after(split(AFMOE_DIGITS), split(AFMOE_CJK), split(DEEPSEEK_V3)), False),
    # llama.cpp's own "default" (also what a file without tokenizer.ggml.pre gets).
    "default": (lambda: bytes_after(split(r"[\p{P}\$\+<=>\^~\|]+"), split(GPT2), split(r"\p{N}+"),
                                    split("[0-9][0-9][0-9]")), False),
}


def gpt2_vocab(tok_dir):
    with open(os.path.join(tok_dir, "gpt2", "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(tok_dir, "gpt2", "vocab.bpe"), encoding="utf-8") as f:
        merges = [l for l in f.read().split("\n")[1:] if l]
    tokens = [None] * len(vocab)
    for t, i in vocab.items():
        tokens[i] = t
    return vocab, tokens, merges


def bpe_reference(vocab, merges, pre, ignore_merges):
    t = Tokenizer(models.BPE(vocab=dict(vocab), merges=[tuple(m.split(" ")) for m in merges],
                             ignore_merges=ignore_merges))
    t.pre_tokenizer = pre
    t.decoder = decoders.ByteLevel()
    t.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    return t


def make_pre_sets(out, tok_dir, models_dir, corpus, manifest, write_refs, subset=None):
    d = os.path.join(out, "gguf_pre")
    os.makedirs(d, exist_ok=True)
    vocab, tokens, merges = gpt2_vocab(tok_dir)
    types = [NORMAL] * len(tokens)
    types[vocab["<|endoftext|>"]] = CONTROL
    eot = vocab["<|endoftext|>"]
    for pre, (make, ignore) in PRE_SETS.items():
        name = "gguf_pre_" + pre.replace("-", "_")
        path = os.path.join(d, name + ".gguf")
        write_gguf(path, "gpt2", tokens, types, None, merges=merges, model="gpt2", bos=eot, eos=eot, unk=None,
                   pre=pre)
        write_refs(name, bpe_reference(vocab, merges, make(), ignore), corpus, path, manifest, subset=subset)
    # A file without tokenizer.ggml.pre: llama.cpp's default.
    path = os.path.join(d, "gguf_pre_missing.gguf")
    write_gguf(path, "gpt2", tokens, types, None, merges=merges, model="gpt2", bos=eot, eos=eot, unk=None, pre=None)
    write_refs("gguf_pre_missing", bpe_reference(vocab, merges, PRE_SETS["default"][0](), False), corpus, path,
               manifest)

    # BERT WordPiece (all-MiniLM-L6-v2's uncased vocabulary) as llama.cpp's converter stores it.
    minilm_dir = os.path.join(models_dir, "all-minilm-l6-v2")
    ref = Tokenizer.from_file(os.path.join(minilm_dir, "tokenizer.json"))
    ref.no_padding()
    ref.no_truncation()
    wp = ref.get_vocab()
    btokens = [None] * len(wp)
    for t, i in wp.items():
        btokens[i] = t
    phantom = [t if (t.startswith("[") and t.endswith("]")) else t[2:] if t.startswith("##") else "\u2581" + t
               for t in btokens]
    btypes = [CONTROL if t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]") else NORMAL for t in btokens]
    path = os.path.join(d, "gguf_bert.gguf")
    write_gguf(path, "bert", phantom, btypes, None, model="bert", bos=None, eos=None, unk=wp["[UNK]"],
               pad=wp["[PAD]"], pre="default",
               extra={"tokenizer.ggml.seperator_token_id": wp["[SEP]"], "tokenizer.ggml.cls_token_id": wp["[CLS]"],
                      "tokenizer.ggml.mask_token_id": wp["[MASK]"]})
    write_refs("gguf_bert", ref, corpus, path, manifest)

    # Files to refuse.
    bad = os.path.join(d, "bad")
    os.makedirs(bad, exist_ok=True)
    few = 300
    write_gguf(os.path.join(bad, "unknown_pre.gguf"), "gpt2", tokens[:few], types[:few], None, merges=[],
               model="gpt2", bos=None, eos=None, unk=None, pre="no-such-pre")
    # Tokenizer models llama.cpp has that breadth does not implement.
    write_gguf(os.path.join(bad, "plamo2_model.gguf"), "plamo2", tokens[:few], types[:few], None, model="plamo2",
               bos=None, eos=None, unk=None, pre=None)
    write_gguf(os.path.join(bad, "hybriddna_model.gguf"), "gpt2", tokens[:few], types[:few], None, merges=[],
               model="hybriddna", bos=None, eos=None, unk=None, pre="default")

    make_spm_style_sets(d, tok_dir, corpus, manifest, write_refs)
    make_rwkv_sets(d, tok_dir, corpus, manifest, write_refs)


def make_spm_style_sets(d, tok_dir, corpus, manifest, write_refs):
    """gpt2 files whose pre selects a pipeline over raw UTF-8 (no byte-level alphabet): Llama-2's
    vocabulary and merges under each value, the reference built directly as a tokenizers pipeline."""
    from tokenizers import normalizers

    tokens, types, _, merges = llama2_vocab(tok_dir)
    vocab = {t: i for i, t in enumerate(tokens)}
    pairs = [tuple(m.split(" ")) for m in merges]
    specials = [AddedToken(t, special=True, normalized=False) for t in ("<s>", "</s>", "<unk>")]

    def spm_style(add_bos):
        t = Tokenizer(models.BPE(vocab=dict(vocab), merges=list(pairs), unk_token="<unk>", fuse_unk=True,
                                 byte_fallback=True))
        t.normalizer = normalizers.Replace(" ", "\u2581")
        t.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()])
        t.add_special_tokens(specials)
        if add_bos:
            from tokenizers import processors
            t.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
        return t

    for pre, add_bos in (("gemma4", True), ("granite-embed-multi-311m", False), ("sarvam-moe", False)):
        name = "gguf_pre_" + pre.replace("-", "_")
        path = os.path.join(d, name + ".gguf")
        write_gguf(path, "llama", tokens, types, None, merges=merges, model="gpt2", bos=1, eos=2, unk=0, pre=pre,
                   add_bos=add_bos)
        write_refs(name, spm_style(add_bos), corpus, path, manifest, subset=800)

    # jina-embeddings-v2-base-zh as the converter writes it: model and pre "whitespace", lowercase.
    def whitespace_ref():
        t = Tokenizer(models.BPE(vocab=dict(vocab), merges=list(pairs), unk_token="<unk>", byte_fallback=True))
        t.normalizer = normalizers.Lowercase()
        t.pre_tokenizer = P.WhitespaceSplit()
        t.add_special_tokens(specials)
        return t

    path = os.path.join(d, "gguf_pre_whitespace.gguf")
    write_gguf(path, "jina-bert-v2", tokens, types, None, merges=merges, model="whitespace", bos=1, eos=2, unk=0,
               pre="whitespace", hook=lambda w: w.add_bool("tokenizer.ggml.normalizer.lowercase", True))
    write_refs("gguf_pre_whitespace", whitespace_ref(), corpus, path, manifest, subset=800)


# ------------------------------------------------------------------------------------------ RWKV
def rwkv_escape(b):
    """The converter's spelling of a token: repr(bytes)[2:-1]."""
    return repr(b)[2:-1]


class RwkvWorldReference:
    """The RWKV world tokenizer's own algorithm (rwkv_tokenizer.py's TRIE_TOKENIZER): from each
    position, the longest vocabulary byte string that is a prefix of the rest of the text. Control
    tokens ("<s>") are cut out of the text first, as llama.cpp does for special tokens. No BOS/EOS."""

    def __init__(self, byte_tokens, specials):
        self.root = {}
        for i, b in byte_tokens.items():
            node = self.root
            for c in b:
                node = node.setdefault(c, {})
            node[None] = i
        self.bytes = dict(byte_tokens)
        self.specials = dict(specials)  # text -> id
        for t, i in specials.items():
            self.bytes[i] = t.encode("utf-8")

    def _greedy(self, data):
        out, pos = [], 0
        while pos < len(data):
            node, best, end, i = self.root, None, pos, pos
            while i < len(data) and data[i] in node:
                node = node[data[i]]
                i += 1
                if None in node:
                    best, end = node[None], i
            if best is None:
                pos += 1  # no token for this byte: dropped (no unknown token)
                continue
            out.append(best)
            pos = end
        return out

    def _ids(self, text):
        out, rest = [], text
        while rest:
            hits = [(rest.find(t), -len(t), t) for t in self.specials if rest.find(t) >= 0]
            if not hits:
                out += self._greedy(rest.encode("utf-8"))
                break
            at, _, t = min(hits)
            out += self._greedy(rest[:at].encode("utf-8"))
            out.append(self.specials[t])
            rest = rest[at + len(t):]
        return out

    class _Enc:
        def __init__(self, ids):
            self.ids = ids

    def encode(self, text, add_special_tokens=False):
        return self._Enc(self._ids(text))

    def decode(self, ids, skip_special_tokens=False):
        special_ids = set(self.specials.values())
        data = b"".join(self.bytes[i] for i in ids if i in self.bytes and
                        not (skip_special_tokens and i in special_ids))
        return data.decode("utf-8", errors="replace")


def gpt2_token_bytes(tok_dir):
    from tokenizers.pre_tokenizers import ByteLevel
    alphabet = {c: i for i, c in enumerate(ByteLevel.alphabet())}
    # bytes_to_unicode: the byte each printable character stands for.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + \
        list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    to_byte = {chr(c): b for b, c in zip(bs, cs)}
    assert set(to_byte) == set(alphabet)
    vocab, tokens, _ = gpt2_vocab(tok_dir)
    return [bytes(to_byte[c] for c in t) for t in tokens if t != "<|endoftext|>"]


def make_rwkv_sets(d, tok_dir, corpus, manifest, write_refs):
    seen, byte_tokens = set(), []
    for b in [bytes([i]) for i in range(256)] + gpt2_token_bytes(tok_dir):
        if b not in seen:
            seen.add(b)
            byte_tokens.append(b)
    tokens = ["<s>"] + [rwkv_escape(b) for b in byte_tokens] + ["[PAD1]", "[PAD2]"]
    types = [CONTROL] + [NORMAL] * len(byte_tokens) + [UNUSED, UNUSED]
    path = os.path.join(d, "gguf_rwkv.gguf")
    write_gguf(path, "rwkv6", tokens, types, None, model="rwkv", bos=0, eos=0, unk=None, pre=None)
    ref = RwkvWorldReference({i + 1: b for i, b in enumerate(byte_tokens)}, {"<s>": 0})
    write_refs("gguf_rwkv", ref, corpus, path, manifest)

    # A small vocabulary for hand-worked cases (test_tokenizer_gguf.cpp): ids as listed.
    small = ["<s>", "a", "b", "ab", "abc", "\\n", "\\xe4\\xbd\\xa0", "\\\\", "\\'", "\"", "c", "[PAD1]"]
    stypes = [CONTROL] + [NORMAL] * 10 + [UNUSED]
    write_gguf(os.path.join(d, "rwkv_small.gguf"), "rwkv6", small, stypes, None, model="rwkv", bos=0, eos=0,
               unk=None, pre=None)
    # Refused: a truncated \x escape; a whitespace model under another pre.
    write_gguf(os.path.join(d, "bad", "rwkv_bad_escape.gguf"), "rwkv6", ["<s>", "a", "\\x4"], [CONTROL, NORMAL, NORMAL],
               None, model="rwkv", bos=0, eos=0, unk=None, pre=None)
    write_gguf(os.path.join(d, "bad", "whitespace_other_pre.gguf"), "llama", small[:4], [NORMAL] * 4, None,
               merges=["a b"], model="whitespace", bos=None, eos=None, unk=None, pre="qwen2")
