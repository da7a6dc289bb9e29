"""Tiny models with a real tokenizer for the C API, Python and example tests, and their references.

Usage: python make_bindings_fixture.py OUTDIR

Writes
  OUTDIR/base/, OUTDIR/aligned/   two LlamaForCausalLM checkpoints (random unit-scale weights) sharing
                                  a byte-level BPE tokenizer trained here with `tokenizers`; the aligned
                                  one has a ChatML chat template, the base one none.
  OUTDIR/reference.json           what the reference libraries compute for them:
    texts[i].ids          tokenizers' encode(text).ids (no special tokens)
    chat_ids              transformers' apply_chat_template([user: PROMPT], add_generation_prompt=True)
    raw_ids               tokenizer(PROMPT).input_ids (what breadth's raw prompt encoding must equal)
    greedy_tokens         aligned model, transformers generate(raw_ids, do_sample=False, MAX_NEW tokens)
    greedy_text           tokenizer.decode(greedy_tokens, skip_special_tokens=True)
    logits_ids / logits   aligned model's logits for one sequence ([T][V] as nested lists, float32)
    last_hidden           the final-norm hidden state at the last position of logits_ids
  OUTDIR/routing.jsonl            a routing table with two clearly separated kinds of query: arithmetic
                                  questions, where model "mathbot" has the higher div-cov, and requests for
                                  poems, where "poetbot" has; held-out queries of either kind must be routed
                                  to that model.
"""

import json
import os
import sys

import torch
import transformers as tf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from make_tiny_decoders import randomize  # noqa: E402  (the unit-scale weights every fixture draws)

MAX_NEW = 12
PROMPT = "Tell me a story about a cat."
TEXTS = ["Tell me a story about a cat.", "Name a color, please!", "  spaces   and\nnewlines\t", "monday, friday."]
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
          "{% endif %}")


WORDS = ("the a cat dog story day week color red blue green best tell me name what is of about "
         "monday tuesday friday sunday once upon time there was little who liked to run play sleep "
         "answer list all possible answers content title { } \" , : . ? ! 1 2 3 please "
         "I you we they it and or but so because when where why how")


def corpus(first=TEXTS, words=WORDS):
    """`first`, then 400 seeded random lines of `words`: the tokenizer's training text."""
    words = words.split()
    g = torch.Generator().manual_seed(0)
    lines = list(first)
    for _ in range(400):
        n = int(torch.randint(4, 14, (1,), generator=g))
        idx = torch.randint(0, len(words), (n,), generator=g).tolist()
        lines.append(" ".join(words[i] for i in idx))
    return lines


def train_bpe(lines, vocab_size):
    """A byte-level BPE with ChatML's special tokens, trained on `lines`."""
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size,
                                  special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    t.train_from_iterator(lines, trainer)
    return t


def tokenizer(out):
    t = train_bpe(corpus(), 400)
    os.makedirs(out, exist_ok=True)
    t.save(os.path.join(out, "tokenizer.json"))
    return t


def write_config(out, chat):
    cfg = {"bos_token": None, "eos_token": "<|im_end|>" if chat else "<|endoftext|>", "unk_token": None,
           "pad_token": "<|endoftext|>", "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512}
    if chat:
        cfg["chat_template"] = CHATML
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


def model(out, tok, eos_name, seed):
    gen = torch.Generator().manual_seed(seed)
    vocab = tok.get_vocab_size()
    eos = tok.token_to_id(eos_name)
    cfg = tf.LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         rms_norm_eps=1e-5, bos_token_id=tok.token_to_id("<|endoftext|>"), eos_token_id=eos,
                         pad_token_id=tok.token_to_id("<|endoftext|>"), tie_word_embeddings=False)
    m = tf.LlamaForCausalLM(cfg).eval()
    randomize(m, gen, head_scale=4.0)
    with torch.no_grad():
        m.lm_head.weight[eos] *= 1.6  # EOS now and then, so samples end on their own
    m.save_pretrained(out)
    return m


MATH = ["What is 3 plus 4?", "Compute 15 divided by 3.", "What is 9 times 8?", "Subtract 17 from 40.",
        "What is the square root of 81?", "Add 123 and 456.", "What is 2 to the power of 10?",
        "Multiply 6 by 7.", "What is 100 minus 37?", "Divide 144 by 12."]
POEMS = ["Write a short poem about the ocean.", "Compose a haiku about autumn leaves.",
         "Write a sonnet about lost love.", "Write a poem about a quiet forest at night.",
         "Compose a limerick about a cat.", "Write a verse about the morning sun.",
         "Write a poem about the city in the rain.", "Compose a haiku about snow.",
         "Write a ballad about a sailor.", "Write a short poem about friendship."]


def routing_table(path):
    with open(path, "w") as f:
        for i, q in enumerate(MATH + POEMS):
            math = i < len(MATH)
            for model, wins in (("mathbot", math), ("poetbot", not math)):
                dc = 0.8 if wins else 0.3
                f.write(json.dumps({"query_id": f"q{i}", "query": q, "model": model, "div_cov": dc,
                                    "unq": 40 * dc, "qual": 6.0, "unq_qual": 6.0}) + "\n")


def main(out):
    os.makedirs(out, exist_ok=True)
    routing_table(os.path.join(out, "routing.jsonl"))
    tok = None
    for role, seed in (("base", 5), ("aligned", 6)):
        d = os.path.join(out, role)
        tok = tokenizer(d)
        write_config(d, chat=(role == "aligned"))
        m = model(d, tok, "<|im_end|>" if role == "aligned" else "<|endoftext|>", seed)
    hf = tf.AutoTokenizer.from_pretrained(os.path.join(out, "aligned"))
    aligned = m
    ref = {"prompt": PROMPT, "vocab_size": tok.get_vocab_size(), "max_new": MAX_NEW,
           "texts": [{"text": t, "ids": tok.encode(t).ids} for t in TEXTS]}
    ref["chat_ids"] = hf.apply_chat_template([{"role": "user", "content": PROMPT}], add_generation_prompt=True,
                                             tokenize=True, return_dict=False)
    raw = hf(PROMPT).input_ids
    ref["raw_ids"] = raw
    with torch.no_grad():
        g = aligned.generate(torch.tensor([raw]), do_sample=False, max_new_tokens=MAX_NEW,
                             eos_token_id=aligned.config.eos_token_id, pad_token_id=aligned.config.pad_token_id)
        new = g[0, len(raw):].tolist()
        eos = aligned.config.eos_token_id
        if eos in new:
            new = new[: new.index(eos) + 1]
        ref["greedy_tokens"] = new
        ref["greedy_text"] = hf.decode(new, skip_special_tokens=True)
        ids = torch.tensor([ref["texts"][0]["ids"]])
        o = aligned(input_ids=ids, output_hidden_states=True)
        ref["logits_ids"] = ids[0].tolist()
        ref["logits"] = o.logits[0].tolist()
        ref["last_hidden"] = o.hidden_states[-1][0, -1].tolist()
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)


if __name__ == "__main__":
    main(sys.argv[1])
