"""Tiny random model pairs for the BACO decoder tests.

Usage: python make_baco_pairs.py OUTDIR

  OUTDIR/shared/{base,aligned}   two random Llama checkpoints with the same GPT-2 vocabulary
                                 (tokenizer.json built from /work/shared/data/tokenizers/gpt2); the
                                 aligned one has a chat template in tokenizer_config.json.
  OUTDIR/cross/{base,aligned}    base with the GPT-2 vocabulary, aligned with Llama-2's (SentencePiece
                                 BPE with byte fallback, a different segmentation of the same text).

Weights are unit-scale (as tests/fixtures/make_tiny_decoders.py) with the output head scaled so that
next-token distributions range from flat to peaked, and the EOS row scaled up so that EOS is the top-1
token on a few percent of steps: enough to exercise BACO's EOS invariants in short runs.
"""

import json
import os
import shutil
import sys

import torch
import transformers as tf
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_tiny_decoders import randomize  # noqa: E402  (the unit-scale weights every fixture draws)

SHARED = os.environ.get("BREADTH_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
TOK = os.path.join(SHARED, "data", "tokenizers")

CHAT = ("{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}")


def write_config(out, extra):
    """tokenizer_config.json as a Hugging Face checkpoint has it (specials, the chat template)."""
    path = os.path.join(out, "tokenizer_config.json")
    cfg = json.load(open(path)) if os.path.exists(path) else {}
    cfg.update(extra)
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)


def gpt2_tokenizer(out, chat):
    """GPT-2's byte-level BPE from encoder.json + vocab.bpe, saved as tokenizer.json."""
    os.makedirs(out, exist_ok=True)
    t = Tokenizer(models.BPE.from_file(os.path.join(TOK, "gpt2", "encoder.json"),
                                       os.path.join(TOK, "gpt2", "vocab.bpe")))
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    t.post_processor = processors.ByteLevel(trim_offsets=False)
    t.add_special_tokens([AddedToken("<|endoftext|>", special=True)])
    t.save(os.path.join(out, "tokenizer.json"))
    extra = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
             "tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024}
    if chat:
        extra["chat_template"] = CHAT
    write_config(out, extra)
    return t.get_vocab_size(), t.token_to_id("<|endoftext|>"), t.token_to_id("<|endoftext|>")


def llama2_tokenizer(out, chat):
    os.makedirs(out, exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOK, "llama2", f), os.path.join(out, f))
        os.chmod(os.path.join(out, f), 0o644)
    if chat:
        write_config(out, {"chat_template": CHAT})
    t = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    return t.get_vocab_size(), t.token_to_id("<s>"), t.token_to_id("</s>")


def model(out, tok, seed):
    gen = torch.Generator().manual_seed(seed)
    vocab, bos, eos = tok
    cfg = tf.LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         rms_norm_eps=1e-5, bos_token_id=bos, eos_token_id=eos,
                         tie_word_embeddings=False)
    m = tf.LlamaForCausalLM(cfg).eval()
    randomize(m, gen, head_scale=5.0)
    with torch.no_grad():
        # Scale the EOS row so that EOS is the top-1 token at about 3% of positions of random text.
        ids = torch.randint(3, vocab, (16, 16), generator=gen)
        logits = m(input_ids=ids).logits.reshape(-1, vocab)
        l_eos = logits[:, eos].clone()
        logits[:, eos] = -float("inf")
        ratio = torch.where(l_eos > 0, logits.max(-1).values / l_eos, torch.full_like(l_eos, float("inf")))
        scale = float(ratio.quantile(0.03)) * 1.001
        m.lm_head.weight[eos] *= scale
    m.save_pretrained(out)


def main(out):
    os.makedirs(out, exist_ok=True)
    for pair, (btok, atok) in {"shared": (gpt2_tokenizer, gpt2_tokenizer),
                               "cross": (gpt2_tokenizer, llama2_tokenizer)}.items():
        for role, make_tok, seed in (("base", btok, 11), ("aligned", atok, 22)):
            d = os.path.join(out, pair, role)
            tok = make_tok(d, chat=(role == "aligned"))
            model(d, tok, seed + (100 if pair == "cross" else 0))


if __name__ == "__main__":
    main(sys.argv[1])
