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
import math
import os
import sys

import torch
import transformers as tf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

MAX_NEW = 24
PROMPTS = ["Tell me a story about a cat.", "Name a color.", "What is the best day of the week?"]
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
          "{% endif %}")


def corpus():
    words = ("the a cat dog story day week color red blue green best tell me name what is of about "
             "monday tuesday friday sunday once upon time there was little who liked to run play sleep "
             "answer list all possible answers content title { } \" , : . ? ! 1 2 3 "
             "I you we they it and or but so because when where why how").split()
    g = torch.Generator().manual_seed(0)
    lines = list(PROMPTS)
    for _ in range(400):
        n = int(torch.randint(4, 14, (1,), generator=g))
        idx = torch.randint(0, len(words), (n,), generator=g).tolist()
        lines.append(" ".join(words[i] for i in idx))
    return lines


def randomize(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=gen))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * (1.5 / math.sqrt(p.shape[1])))


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    ckpt = os.path.join(out, "tiny_chat")
    os.makedirs(ckpt, exist_ok=True)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=420, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(corpus(), trainer)
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
