"""GGUF files with SentencePiece-style vocabularies (tokenizer.ggml.model = "llama" / "gemma4"),
written with gguf-py from the real Llama-2 vocabulary, and transformers' tokenizers for them
(`AutoTokenizer.from_pretrained(dir, gguf_file=...)`) as the reference. Used by
make_tokenizer_refs.py; nothing here is committed output.

A real Llama-2 GGUF converted from tokenizer.model has scores and no merges; transformers then
derives the merges from the scores. The shared llama2 folder only has tokenizer.json, so the scores
are written the way SentencePiece's BPE trainer assigns them (piece i scores -(i - first piece)).
"""
import json
import os

import numpy as np

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def llama2_vocab(tok_dir):
    with open(os.path.join(tok_dir, "llama2", "tokenizer.json"), encoding="utf-8") as f:
        j = json.load(f)
    vocab = j["model"]["vocab"]
    tokens = [None] * len(vocab)
    for t, i in vocab.items():
        tokens[i] = t
    types, scores = [], []
    for i, t in enumerate(tokens):
        if t == "<unk>":
            types.append(UNKNOWN)
            scores.append(0.0)
        elif t in ("<s>", "</s>"):
            types.append(CONTROL)
            scores.append(0.0)
        elif t.startswith("<0x") and len(t) == 6:
            types.append(BYTE)
            scores.append(0.0)
        else:
            types.append(NORMAL)
            scores.append(-float(i - 259))
    merges = [m if isinstance(m, str) else " ".join(m) for m in j["model"]["merges"]]
    return tokens, types, scores, merges


def write_gguf(path, arch, tokens, types, scores, merges=None, model="llama", bos=1, eos=2, unk=0, pad=None,
               add_bos=None, add_eos=None, chat_template=None, pre="default", extra=None, hook=None):
    import gguf

    w = gguf.GGUFWriter(path, arch)
    w.add_block_count(1)
    w.add_context_length(64)
    w.add_embedding_length(8)
    w.add_feed_forward_length(16)
    w.add_head_count(2)
    w.add_head_count_kv(2)
    w.add_key_length(4)
    w.add_value_length(4)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(len(tokens))
    w.add_tokenizer_model(model)
    if pre is not None:
        w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    if scores is not None:
        w.add_token_scores(scores)
    w.add_token_types(types)
    if merges is not None:
        w.add_token_merges(merges)
    if bos is not None:
        w.add_bos_token_id(bos)
    if eos is not None:
        w.add_eos_token_id(eos)
    if unk is not None:
        w.add_unk_token_id(unk)
    if pad is not None:
        w.add_pad_token_id(pad)
    if add_bos is not None:
        w.add_add_bos_token(add_bos)
    if add_eos is not None:
        w.add_add_eos_token(add_eos)
    if chat_template is not None:
        w.add_chat_template(chat_template)
    for key, value in (extra or {}).items():
        w.add_uint32(key, value)
    if hook is not None:
        hook(w)  # further metadata (a converter's own keys)
    # transformers reads the model configuration too; one small tensor is enough for it.
    w.add_tensor("token_embd.weight", np.zeros((len(tokens), 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def reference(path, legacy_llama=False):
    """transformers' tokenizer for the file. With legacy_llama, its pipeline becomes that of Llama-2's
    own tokenizer.json (and llama.cpp's SPM): Prepend(U+2581) + Replace(" ", U+2581) normalizing every
    piece between added tokens, no pre-tokenizer (transformers' conversion uses Metaspace with
    prepend "first" instead, which gives a lone space one token instead of Llama-2's two)."""
    from transformers import AutoTokenizer
    from tokenizers import normalizers

    ref = AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))
    if legacy_llama:
        b = ref.backend_tokenizer
        b.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
        b.pre_tokenizer = None
    return ref


CHAT = ("{% for m in messages %}{% if m['role'] == 'user' %}{{ bos_token + '[INST] ' + m['content'] + ' [/INST]' }}"
        "{% else %}{{ ' ' + m['content'] + eos_token }}{% endif %}{% endfor %}")


def make_gguf_sets(out, tok_dir, corpus, manifest, write_refs):
    """Writes the GGUF files and their reference sets; returns facts for test_tokenizer_gguf.cpp."""
    d = os.path.join(out, "gguf")
    os.makedirs(d, exist_ok=True)
    tokens, types, scores, merges = llama2_vocab(tok_dir)
    facts = []

    def add(name, subset, **kw):
        path = os.path.join(d, name + ".gguf")
        write_gguf(path, **kw)
        ref = reference(path, legacy_llama=kw.get("model", "llama") == "llama" and kw["arch"] != "gemma2")
        backend = ref.backend_tokenizer
        write_refs(name, backend, corpus, path, manifest, subset=subset)
        rec = {"name": name, "path": path, "vocab_size": backend.get_vocab_size(with_added_tokens=True),
               "bos_id": ref.bos_token_id, "eos_id": ref.eos_token_id, "pad_id": ref.pad_token_id,
               "special_ids": sorted(ref.all_special_ids), "chat": None}
        if kw.get("chat_template"):
            rec["chat"] = ref.apply_chat_template([{"role": "user", "content": "Hi there"}], tokenize=False,
                                                  add_generation_prompt=True)
        facts.append(rec)
        return ref

    # 1. Llama-2 as llama.cpp converts tokenizer.model: scores, no merges, BOS by default; a chat template.
    ref = add("llama2_gguf_scores", None, arch="llama", tokens=tokens, types=types, scores=scores,
              chat_template=CHAT)
    derived = json.loads(ref.backend_tokenizer.to_str())["model"]["merges"]
    with open(os.path.join(d, "llama2_gguf_scores.merges.json"), "w", encoding="utf-8") as f:
        json.dump({"tokens": tokens, "scores": scores, "merges": derived}, f, ensure_ascii=False)

    # 2. Merges given in the file, EOS and no BOS, a pad id, one user-defined and one control token
    #    that occur in running text (so added-token splitting and Metaspace's "first" meet them).
    t2 = list(types)
    t2[tokens.index("ing")] = USER_DEFINED
    t2[tokens.index("http")] = CONTROL
    add("llama2_gguf_merges", 1500, arch="llama", tokens=tokens, types=t2, scores=scores, merges=merges,
        add_bos=False, add_eos=True, pad=0)

    # 2b. Llama-2's own tokenizer.json is the reference for its vocabulary and merges in a GGUF.
    path = os.path.join(d, "llama2_gguf_own.gguf")
    write_gguf(path, "llama", tokens, types, scores, merges=merges)
    from tokenizers import Tokenizer
    write_refs("llama2_gguf_own", Tokenizer.from_file(os.path.join(tok_dir, "llama2", "tokenizer.json")), corpus,
               path, manifest)

    # 3. Gemma-2 architecture: runs of spaces stored as spaces, merges ordered by position, the
    #    tokenizer class's own specials (<bos>, <eos>, <pad>, <mask>) appended after the vocabulary.
    tok3 = list(tokens)
    for t in ("\u2581\u2581", "\u2581\u2581\u2581\u2581"):
        tok3[tokens.index(t)] = " " * len(t)
    add("gemma2_gguf", 1500, arch="gemma2", tokens=tok3, types=types, scores=scores)

    # 4. Phi-3 architecture: the prefix space comes from a normalizer.
    add("phi3_gguf", 1500, arch="phi3", tokens=tokens, types=types, scores=scores, add_bos=True)

    # 5. tokenizer.ggml.model = "gemma4": Gemma's pipeline, no BOS even though the file asks for it.
    add("gemma4_gguf", 800, arch="llama", model="gemma4", tokens=tokens, types=types, scores=scores,
        add_bos=True)

    # Files that must be rejected with a clear error.
    bad = os.path.join(d, "bad")
    os.makedirs(bad, exist_ok=True)
    write_gguf(os.path.join(bad, "no_scores.gguf"), "llama", tokens[:300], types[:300], None)
    write_gguf(os.path.join(bad, "nan_score.gguf"), "llama", tokens[:300], types[:300],
               scores[:299] + [float("nan")])
    write_gguf(os.path.join(bad, "bos_out_of_range.gguf"), "llama", tokens[:300], types[:300], scores[:300], bos=300)
    write_gguf(os.path.join(bad, "unknown_model.gguf"), "llama", tokens[:300], types[:300], scores[:300],
               model="bert-unknown")
    write_gguf(os.path.join(bad, "short_scores.gguf"), "llama", tokens[:300], types[:300], scores[:299])
    with open(os.path.join(d, "facts.json"), "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1)
