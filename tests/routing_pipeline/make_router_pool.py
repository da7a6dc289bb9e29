"""A pool of three tiny random chat models and a tiny text encoder for the routing pipeline tests.

Usage: python make_router_pool.py OUTDIR

Writes
  OUTDIR/pool/alpha, OUTDIR/pool/beta, OUTDIR/pool/gamma
      LlamaForCausalLM / Qwen2ForCausalLM checkpoints (2 layers, hidden 32 / 48 / 64, random unit-scale
      weights) sharing a byte-level BPE tokenizer trained here, each with a ChatML chat template.
  OUTDIR/encoder/
      a 2-layer BERT (hidden 32) with a WordPiece tokenizer and sentence-transformers mean pooling.
  OUTDIR/reference.json
      prompts: the first 30 NoveltyBench curated prompts (BREADTH_SHARED_DIR), as {id, prompt};
      hidden[model]: transformers' last-layer hidden state (hidden_states[-1], after the final norm) at
      the last token of apply_chat_template([user: prompt], add_generation_prompt=True) for the first
      4 prompts; chat_ids[model]: those token ids.
"""

import json
import os
import sys

import torch
import transformers as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "capi"))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import make_bindings_fixture as mb  # noqa: E402  (byte-level BPE tokenizer + ChatML config)
import make_tiny_encoders as me  # noqa: E402  (WordPiece tokenizer + sentence-transformers files)
from make_tiny_decoders import randomize  # noqa: E402

POOL = [("alpha", tf.LlamaConfig, tf.LlamaForCausalLM, 32, 11),
        ("beta", tf.Qwen2Config, tf.Qwen2ForCausalLM, 48, 12),
        ("gamma", tf.LlamaConfig, tf.LlamaForCausalLM, 64, 13)]
N_PROMPTS = 30
N_REF = 4


def chat_model(out, cfg_cls, model_cls, hidden, seed, tok):
    gen = torch.Generator().manual_seed(seed)
    eos = tok.token_to_id("<|im_end|>")
    pad = tok.token_to_id("<|endoftext|>")
    cfg = cfg_cls(vocab_size=tok.get_vocab_size(), hidden_size=hidden, intermediate_size=2 * hidden,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=1024, rms_norm_eps=1e-5, bos_token_id=pad, eos_token_id=eos,
                  pad_token_id=pad, tie_word_embeddings=False)
    m = model_cls(cfg).eval()
    randomize(m, gen, head_scale=4.0)
    with torch.no_grad():
        m.lm_head.weight[eos] *= 1.6  # EOS now and then, so that answers end on their own
    m.save_pretrained(out)
    return m


def encoder(out):
    os.makedirs(out, exist_ok=True)
    me.wordpiece_tokenizer(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
                   "model_max_length": 128, "do_lower_case": True, "tokenizer_class": "BertTokenizerFast"}, f)
    from tokenizers import Tokenizer
    V = Tokenizer.from_file(os.path.join(out, "tokenizer.json")).get_vocab_size()
    cfg = tf.BertConfig(**me.bert_kw(V))
    model = tf.BertModel(cfg, add_pooling_layer=False).eval()
    me.randomize(model, torch.Generator().manual_seed(21))
    model.save_pretrained(out)
    me.write_st_files(out, "mean", 128)


def main(out):
    os.makedirs(out, exist_ok=True)
    shared = os.environ.get("BREADTH_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared"))
    prompts = []
    with open(os.path.join(shared, "data", "noveltybench", "curated.jsonl")) as f:
        for line in f:
            if line.strip() and len(prompts) < N_PROMPTS:
                r = json.loads(line)
                prompts.append({"id": r["id"], "prompt": r["prompt"]})
    ref = {"prompts": prompts, "hidden": {}, "chat_ids": {}}
    for name, cfg_cls, model_cls, hidden, seed in POOL:
        d = os.path.join(out, "pool", name)
        tok = mb.tokenizer(d)
        mb.write_config(d, chat=True)
        m = chat_model(d, cfg_cls, model_cls, hidden, seed, tok)
        hf = tf.AutoTokenizer.from_pretrained(d)
        ref["hidden"][name], ref["chat_ids"][name] = [], []
        with torch.no_grad():
            for p in prompts[:N_REF]:
                ids = hf.apply_chat_template([{"role": "user", "content": p["prompt"]}], add_generation_prompt=True,
                                             tokenize=True, return_dict=False)
                o = m(input_ids=torch.tensor([ids]), output_hidden_states=True)
                ref["chat_ids"][name].append(ids)
                ref["hidden"][name].append(o.hidden_states[-1][0, -1].tolist())
    encoder(os.path.join(out, "encoder"))
    with open(os.path.join(out, "prompts.jsonl"), "w") as f:
        for p in prompts:
            f.write(json.dumps(p) + "\n")
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)


if __name__ == "__main__":
    main(sys.argv[1])
