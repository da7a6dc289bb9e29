"""Unigram tokenizers trained here, for make_tokenizer_refs.py: one trained with the `tokenizers`
UnigramTrainer (and a byte-fallback copy of it), and SentencePiece unigram models trained with
Python sentencepiece and converted by transformers (T5Tokenizer / XLMRobertaTokenizer), whose
tokenizer.json carries the model's `Precompiled` normalizer (its precompiled_charsmap). Each is
trained on every other corpus line, so the rest holds characters the vocabulary lacks (unk runs,
byte fallback).
"""
import json
import os
import shutil


def make_unigram_sets(out, corpus, manifest, write_refs):
    import sentencepiece as spm
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    train = corpus[::2]
    base = os.path.join(out, "unigram")
    os.makedirs(base, exist_ok=True)

    def save(name, tok):
        d = os.path.join(base, name)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "tokenizer.json")
        tok.save(path)
        ref = Tokenizer.from_file(path)  # the reference reads exactly the file breadth reads
        write_refs(name, ref, corpus, path, manifest)
        return path

    # 1. tokenizers' own trainer: NFKC, Metaspace, <s> $A </s>.
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=3000, special_tokens=["<unk>", "<s>", "</s>"], unk_token="<unk>",
                                      show_progress=False)
    tok.train_from_iterator(train, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 2)])
    path = save("unigram_trained", tok)

    # 2. The same vocabulary with byte fallback: <0x00>..<0xFF> pieces below every other score.
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    low = min(s for _, s in j["model"]["vocab"]) - 3.0
    j["model"]["vocab"] += [[f"<0x{b:02X}>", low] for b in range(256)]
    j["model"]["byte_fallback"] = True
    j["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        {"type": "ByteFallback"}, {"type": "Fuse"}]}
    d = os.path.join(base, "unigram_byte_fallback")
    os.makedirs(d, exist_ok=True)
    bf_path = os.path.join(d, "tokenizer.json")
    with open(bf_path, "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    write_refs("unigram_byte_fallback", Tokenizer.from_file(bf_path), corpus, bf_path, manifest)

    # 3./4. SentencePiece unigram models converted by transformers (Precompiled normalizer).
    import transformers

    for name, rule, cls, fname in [("t5_precompiled", "nmt_nfkc", "T5Tokenizer", "spiece.model"),
                                   ("xlmr_precompiled_cf", "nfkc_cf", "XLMRobertaTokenizer",
                                    "sentencepiece.bpe.model")]:
        d = os.path.join(base, name + "_src")
        os.makedirs(d, exist_ok=True)
        prefix = os.path.join(d, "sp")
        spm.SentencePieceTrainer.train(sentence_iterator=iter(train), model_prefix=prefix, vocab_size=3000,
                                       model_type="unigram", normalization_rule_name=rule,
                                       character_coverage=0.9995, hard_vocab_limit=False, minloglevel=2)
        shutil.copy(prefix + ".model", os.path.join(d, fname))
        ref = getattr(transformers, cls).from_pretrained(d)
        backend = json.loads(ref.backend_tokenizer.to_str())
        assert "Precompiled" in json.dumps(backend["normalizer"]), f"{name}: no Precompiled normalizer"
        save(name, ref.backend_tokenizer)
