"""Beam search references from transformers for the diverse-beam tests.

Usage: python make_beam_reference.py OUTDIR   (reads OUTDIR/../baco_pairs/shared/aligned)

transformers 5.x no longer ships group (diverse) beam search in the library (num_beam_groups > 1 maps to
the Hub repository transformers-community/group-beam-search), so the reference is its plain beam search:
diverse beam search with one group and no penalty. EOS is switched off (no eos_token_id) so that every
beam runs max_new_tokens; the C++ test requires that breadth's beams hit no EOS on these prompts either.

Writes OUTDIR/beams.json: [{prompt, prompt_ids, num_beams, max_new_tokens, sequences, scores}], sequences
best first (generated ids only), scores their summed log-probabilities.
"""

import json
import os
import sys

import torch
import transformers as tf

PROMPTS = ["Write a haiku about rain.", "Describe the sea."]  # prompts whose beams meet no EOS in breadth


def main(out):
    os.makedirs(out, exist_ok=True)
    src = os.path.join(os.path.dirname(os.path.abspath(out)), "baco_pairs", "shared", "aligned")
    tok = tf.AutoTokenizer.from_pretrained(src)
    m = tf.LlamaForCausalLM.from_pretrained(src).eval()
    m.generation_config.eos_token_id = None
    refs = []
    for prompt in PROMPTS:
        ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                      tokenize=True, return_dict=False)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):
            ids = ids["input_ids"]
        for beams, new in ((3, 6), (4, 5)):
            gc = tf.GenerationConfig(num_beams=beams, num_return_sequences=beams, do_sample=False,
                                     max_new_tokens=new, length_penalty=1.0, early_stopping=False,
                                     eos_token_id=None, pad_token_id=0, output_scores=True,
                                     return_dict_in_generate=True)
            with torch.no_grad():
                g = m.generate(torch.tensor([ids]), generation_config=gc)
            seqs = g.sequences[:, len(ids):].tolist()
            # sequences_scores are length-normalized (all lengths equal here): times the length.
            scores = (g.sequences_scores * new).tolist()
            refs.append({"prompt": prompt, "prompt_ids": list(ids), "num_beams": beams, "max_new_tokens": new,
                         "sequences": seqs, "scores": scores})
    with open(os.path.join(out, "beams.json"), "w") as f:
        json.dump(refs, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
