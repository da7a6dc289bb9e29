"""GGUF vocabularies of type `t5` (llama.cpp's UGM), for make_tokenizer_refs.py: a SentencePiece unigram
model trained here with Python sentencepiece (nmt_nfkc, so the precompiled charsmap matters; T5's
ids: <pad> 0, </s> 1, <unk> 2, no <s>), converted by transformers' T5Tokenizer (the model's
tokenizer.json, with the 100 <extra_id_N> sentinels), and written to GGUF the way llama.cpp's
convert_hf_to_gguf.py writes a T5 vocabulary: pieces, scores and SentencePiece token types from the
.model file, the sentinels of added_tokens.json as USER_DEFINED, the config's vocabulary size padded
with UNUSED [PADn] slots, add_space_prefix / remove_extra_whitespaces / precompiled_charsmap from the
normalizer spec, and bos/eos/unk/pad plus add_bos/add_eos from gguf-py's SpecialVocab over the saved
tokenizer files. The reference is `tokenizers` loading the model's saved tokenizer.json.

Sets: `t5_gguf` (as above) and `t5_gguf_xlmr` (the same vocabulary with <s> $A </s>, as llama.cpp's
converter writes XLM-RoBERTa-style `t5` vocabularies, the reference's post-processor edited to match).
"""
import json
import os
import shutil

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def make_ugm_sets(out, corpus, manifest, write_refs):
    import gguf
    import sentencepiece as spm
    import transformers
    from sentencepiece import sentencepiece_model_pb2 as model_pb2
    from tokenizers import Tokenizer, processors

    from gguf_vocab_sets import write_gguf

    base = os.path.join(out, "ugm")
    src = os.path.join(base, "t5_src")
    os.makedirs(src, exist_ok=True)
    prefix = os.path.join(src, "sp")
    # The other half of the corpus from unigram_sets' models (odd lines), so unknown runs differ too.
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus[1::2]), model_prefix=prefix, vocab_size=3000,
                                   model_type="unigram", normalization_rule_name="nmt_nfkc",
                                   character_coverage=0.9995, hard_vocab_limit=False, minloglevel=2,
                                   pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    shutil.copy(prefix + ".model", os.path.join(src, "spiece.model"))

    # The model's tokenizer as transformers makes it from spiece.model, saved as a hub model ships it.
    hf = transformers.T5Tokenizer.from_pretrained(src)
    saved = os.path.join(base, "t5_hf")
    hf.save_pretrained(saved)
    tok_json = os.path.join(saved, "tokenizer.json")
    with open(tok_json, encoding="utf-8") as f:
        j = json.load(f)
    assert j["normalizer"]["type"] == "Precompiled", "no Precompiled normalizer"

    # convert_hf_to_gguf.py's T5 vocabulary.
    proto = model_pb2.ModelProto()
    with open(os.path.join(src, "spiece.model"), "rb") as f:
        proto.ParseFromString(f.read())
    assert proto.trainer_spec.model_type == 1  # UNIGRAM
    sp = spm.SentencePieceProcessor(model_file=os.path.join(src, "spiece.model"))
    n_model = len(hf)  # pieces + sentinels
    vocab_size = n_model + 28  # a config vocab_size padded past the tokenizer, as t5-small's 32128
    tokens = [f"[PAD{i}]" for i in range(vocab_size)]
    scores = [-10000.0] * vocab_size
    types = [UNUSED] * vocab_size
    for i in range(sp.vocab_size()):
        tokens[i] = sp.IdToPiece(i)
        scores[i] = sp.GetScore(i)
        types[i] = (UNKNOWN if sp.IsUnknown(i) else CONTROL if sp.IsControl(i) else UNUSED if sp.IsUnused(i)
                    else BYTE if sp.IsByte(i) else NORMAL)
    # added_tokens.json of the model (older transformers wrote the sentinels there).
    for content, i in hf.get_added_vocab().items():
        if i >= sp.vocab_size():
            tokens[i] = content
            scores[i] = -1000.0
            types[i] = USER_DEFINED
    assert sum(t == USER_DEFINED for t in types) == 100

    charsmap = proto.normalizer_spec.precompiled_charsmap
    assert charsmap

    def t5_keys(w, add_bos_override=None):
        w.add_add_space_prefix(proto.normalizer_spec.add_dummy_prefix)
        w.add_remove_extra_whitespaces(proto.normalizer_spec.remove_extra_whitespaces)
        w.add_precompiled_charsmap(charsmap)
        special = gguf.SpecialVocab(saved, n_vocab=len(tokens))
        if add_bos_override is not None:
            special.add_special_token["bos"] = add_bos_override
            special.special_token_ids["bos"] = 1
        special.add_to_gguf(w)

    d = os.path.join(base, "gguf")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "t5_gguf.gguf")
    write_gguf(path, "t5", tokens, types, scores, model="t5", bos=None, eos=None, unk=None, pad=None,
               hook=t5_keys)
    write_refs("t5_gguf", Tokenizer.from_file(tok_json), corpus, path, manifest)

    # The same vocabulary with BOS (here </s>, id 1) and EOS around the text, as an XLM-RoBERTa-style
    # `t5` vocabulary asks: add_bos_token = true in the file, the reference's template "</s> $A </s>".
    path_x = os.path.join(d, "t5_gguf_bos.gguf")
    write_gguf(path_x, "t5", tokens, types, scores, model="t5", bos=None, eos=None, unk=None, pad=None,
               hook=lambda w: t5_keys(w, add_bos_override=True))
    ref_x = Tokenizer.from_file(tok_json)
    ref_x.post_processor = processors.TemplateProcessing(single="</s> $A </s>", special_tokens=[("</s>", 1)])
    write_refs("t5_gguf_bos", ref_x, corpus, path_x, manifest, subset=1500)

    # Files to refuse, each naming what is wrong.
    bad = os.path.join(d, "bad")
    os.makedirs(bad, exist_ok=True)
    few = 300
    write_gguf(os.path.join(bad, "t5_no_scores.gguf"), "t5", tokens[:few], types[:few], None, model="t5", bos=None,
               eos=1, unk=2, pad=0)
    write_gguf(os.path.join(bad, "t5_nan_score.gguf"), "t5", tokens[:few], types[:few],
               scores[:few - 1] + [float("nan")], model="t5", bos=None, eos=1, unk=2, pad=0)
    write_gguf(os.path.join(bad, "t5_bad_charsmap.gguf"), "t5", tokens[:few], types[:few], scores[:few], model="t5",
               bos=None, eos=1, unk=2, pad=0, hook=lambda w: w.add_precompiled_charsmap(charsmap[:40]))
    write_gguf(os.path.join(bad, "t5_no_unk.gguf"), "t5", tokens[:few], [NORMAL] * few, scores[:few], model="t5",
               bos=None, eos=1, unk=None, pad=0)

    with open(os.path.join(d, "facts.json"), "w", encoding="utf-8") as f:
        json.dump({"vocab_size": vocab_size, "n_model": n_model, "eos_id": hf.eos_token_id,
                   "pad_id": hf.pad_token_id, "unk_id": hf.unk_token_id,
                   "sentinel_0": hf.convert_tokens_to_ids("<extra_id_0>")}, f)
