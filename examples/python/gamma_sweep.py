"""A γ sweep in notebook style: how BACO trades quality for diversity as the threshold moves.

Run it as a script (headless, the figure goes to a file) or paste the cells into a notebook, where
`res` and the sweep's results display as tables with the base model's tokens highlighted.

    python examples/python/gamma_sweep.py --base BASE --aligned ALIGNED --out sweep.png
    python examples/python/gamma_sweep.py            # SmolLM2-135M-Instruct from the setup cache, both sides

Diversity is distinct-2 over each prompt's n samples (nltk's wordpunct tokenization); quality is a
proxy that needs no judge model: the aligned model's mean per-token log-likelihood of the samples
(higher = more like what the aligned model would write).
"""

import argparse
import os
import sys

# %% Setup
import torch

import breadth

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
default_model = os.path.join(os.environ.get("BREADTH_MODELS_DIR", os.path.expanduser("~/.cache/breadth/models")),
                             "smollm2-135m-instruct.gguf")
p.add_argument("--base", default=default_model)
p.add_argument("--aligned", default=None, help="default: the base checkpoint")
p.add_argument("--rule", default="p", help="rule name without :GAMMA (p, h, rand, p-punc, ...)")
p.add_argument("--gammas", default="0,0.25,0.5,0.75,1")
p.add_argument("--prompts", nargs="*", default=["Write one sentence about the sea.", "Name a fruit and describe it."])
p.add_argument("--n", type=int, default=4)
p.add_argument("--max-tokens", type=int, default=24)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--out", default="gamma_sweep.png")
args = p.parse_args()

base = breadth.Model(args.base)
aligned = breadth.Model(args.aligned) if args.aligned and args.aligned != args.base else base
dec = breadth.BacoDecoder(base, aligned)
print(dec)

# %% One run, displayed with provenance
res = dec.generate(args.prompts[0], rule=f"{args.rule}:0.5", n=2, max_new_tokens=args.max_tokens, seed=args.seed)
print(res)
for s in res.samples:
    print("  ", "".join(f"[{t.text}]" if t.source == "base" else t.text for t in s.tokens if not t.eos))

# %% The sweep: same prompts and seeds at every threshold
gammas = [float(g) for g in args.gammas.split(",")]
points = dec.sweep(args.prompts, args.rule, gammas, n=args.n, max_new_tokens=args.max_tokens, seed=args.seed,
                   progress=True)


def diversity(result):
    """Mean over prompts of distinct-2 among that prompt's samples."""
    by_prompt = {}
    for s in result.samples:
        by_prompt.setdefault(s.prompt_index, []).append(s.text)
    return sum(breadth.distinct_n(t, 2) for t in by_prompt.values()) / len(by_prompt)


def quality(result):
    """The aligned model's mean per-token log-likelihood of the samples (shared vocabulary only)."""
    total, count = 0.0, 0
    for s in result.samples:
        ids = [t.id for t in s.tokens]
        if not ids:
            continue
        prompt = dec.aligned_prompt(args.prompts[s.prompt_index])
        logp = torch.log_softmax(aligned.logits(prompt + ids), dim=-1)
        for i, tok in enumerate(ids):
            total += float(logp[len(prompt) - 1 + i, tok])
        count += len(ids)
    return total / max(count, 1)


rows = breadth.sweep_table(points, diversity=diversity, quality=quality if dec.shared_vocabulary else None)
print(f"{'gamma':>6} {'base share':>10} {'switches':>8} {'distinct-2':>10} {'quality':>8}")
for r in rows:
    print(f"{r['gamma']:6.2f} {r['base_share']:10.3f} {r['switches']:8d} {r['diversity']:10.3f} "
          f"{r.get('quality', float('nan')):8.3f}")

# %% The curve (BACO Fig. 1B)
import matplotlib  # noqa: E402

if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")
ax = breadth.plot_sweep(points, diversity=diversity, quality=quality if dec.shared_vocabulary else None,
                        label=f"BACO-{args.rule.upper()}")
ax.set_title("diversity vs quality over γ")
ax.figure.tight_layout()
ax.figure.savefig(args.out, dpi=100)
print(f"figure written to {args.out}")
