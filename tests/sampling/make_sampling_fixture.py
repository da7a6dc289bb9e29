"""A tiny chat model with a real tokenizer, and transformers' greedy generations for it.

Usage: python make_sampling_fixture.py OUTDIR

Writes OUTDIR/tiny_chat/ (a LlamaForCausalLM checkpoint with random unit-scale weights, a byte-level
BPE tokenizer trained here with the `tokenizers` library, and a ChatML chat template whose EOS is
<|im_end|>) and OUTDIR/reference.json with, for each prompt:

  chat_ids / raw_ids        the prompt through apply_chat_template / tokenizer(prompt)
  greedy_tokens             transformers generate(do_sample=False, max_new_tokens=MAX_NEW)
  greedy_logprobs           log-softmax of the raw logits at each greedy token (output_logits)
  greedy_text               tokenizer.decode(greedy tokens, skip_special_tokens=True)
  raw_greedy_tokens         the same for the raw prompt (no template)
"""

import json
import os
import sys

import torch
import transformers as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "capi"))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from make_bindings_fixture import CHATML, WORDS, corpus, train_bpe  # noqa: E402
from make_tiny_decoders import randomize  # noqa: E402

MAX_NEW = 24
PROMPTS = ["Tell me a story about a cat.", "Name a color.", "What is the best day of the week?"]


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    ckpt = os.path.join(out, "tiny_chat")
    os.makedirs(ckpt, exist_ok=True)

    bpe = train_bpe(corpus(PROMPTS, WORDS.replace(" please", "")), 420)
    bpe.save(os.path.join(ckpt, "tokenizer.json"))
    with open(os.path.join(ckpt, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": None, "eos_token": "<|im_end|>",
                   "pad_token": "<|endoftext|>", "unk_token": None, "model_max_length": 2048,
                   "add_bos_token": False, "chat_template": CHATML}, f, indent=1)
    tok = tf.PreTrainedTokenizerFast(tokenizer_file=os.path.join(ckpt, "tokenizer.json"), eos_token="<|im_end|>",
                                     pad_token="<|endoftext|>")
    tok.chat_template = CHATML
    V = bpe.get_vocab_size()
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    pad = tok.convert_tokens_to_ids("<|endoftext|>")

    cfg = tf.LlamaConfig(vocab_size=V, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         rms_norm_eps=1e-5, bos_token_id=None, eos_token_id=eos, pad_token_id=pad,
                         tie_word_embeddings=False)
    model = tf.LlamaForCausalLM(cfg).eval()
    randomize(model, torch.Generator().manual_seed(1))
    model.save_pretrained(ckpt)

    def greedy(ids):
        with torch.no_grad():
            o = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                               do_sample=False, max_new_tokens=MAX_NEW, eos_token_id=eos, pad_token_id=pad,
                               output_logits=True, return_dict_in_generate=True)
        toks = o.sequences[0, len(ids):].tolist()
        lps = [float(torch.log_softmax(l[0].float(), -1)[t]) for l, t in zip(o.logits, toks)]
        return toks, lps

    ref = {"vocab_size": V, "eos_id": eos, "max_new_tokens": MAX_NEW, "prompts": []}
    for p in PROMPTS:
        chat = tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=True)
        if isinstance(chat, dict) or hasattr(chat, "input_ids"):
            chat = chat["input_ids"]
        chat = list(chat)
        raw = tok(p)["input_ids"]
        g_toks, g_lps = greedy(chat)
        r_toks, _ = greedy(raw)
        body = [t for t in g_toks if t != eos]
        ref["prompts"].append({"prompt": p, "chat_ids": chat, "raw_ids": raw, "greedy_tokens": g_toks,
                               "greedy_logprobs": g_lps,
                               "greedy_text": tok.decode(body, skip_special_tokens=True),
                               "raw_greedy_tokens": r_toks})
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
