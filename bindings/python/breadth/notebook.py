"""Notebook helpers: HTML tables for results (base-model tokens highlighted) and the
diversity-quality curve of a gamma sweep. Plain Python over the bound result objects."""

import html
import math

BASE_STYLE = "background:#cfe8ff;border-radius:2px"


def _esc(text):
    return html.escape(text).replace("\n", "&#8629;<br>")


def _table(header, rows):
    head = "".join(f"<th style='text-align:left'>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left;vertical-align:top'>{c}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def baco_sample_html(sample):
    """A sample's text with the base model's tokens on a blue background (hover: statistics)."""
    parts = []
    for t in sample.tokens:
        if t.eos:
            continue
        tip = f"{t.source} ({t.reason})"
        if t.p_base_max is not None:
            tip += f" p_base={t.p_base_max:.2f}"
        if t.p_aligned_max is not None:
            tip += f" p_aligned={t.p_aligned_max:.2f}"
        style = f" style='{BASE_STYLE}'" if t.source == "base" else ""
        parts.append(f"<span title='{html.escape(tip)}'{style}>{_esc(t.text)}</span>")
    return "".join(parts)


def baco_result_html(result, max_samples=50):
    s = result.summary
    caption = (f"<p><b>{html.escape(result.rule)}</b>: {len(result.samples)} samples, {s.tokens} tokens, "
               f"base share {s.base_share:.3f}, {s.switches} switches "
               f"(<span style='{BASE_STYLE}'>base tokens</span> highlighted)</p>")
    rows = [[str(x.prompt_index), str(x.sample_index), str(x.length), f"{x.base_share:.2f}", x.finish,
             baco_sample_html(x)] for x in result.samples[:max_samples]]
    more = f"<p>... {len(result.samples) - max_samples} more</p>" if len(result.samples) > max_samples else ""
    return caption + _table(["prompt", "sample", "tokens", "base share", "finish", "text"], rows) + more


def generation_html(result, max_samples=50):
    rows = [[str(x.prompt_index), str(x.sample_index), str(len(x.tokens)), x.finish, _esc(x.text)]
            for x in result.samples[:max_samples]]
    return _table(["prompt", "sample", "tokens", "finish", "text"], rows)


def answer_set_html(aset):
    rows = [[str(a.model), str(a.generation), _esc(a.text)] for a in aset.answers]
    return (f"<p>{len(aset.answers)} answers from {len(aset.models)} models"
            f"{'' if aset.complete else ' (incomplete)'}</p>" + _table(["model", "generation", "answer"], rows))


def divcov_html(r):
    return _table(["div-cov", "#unique", "Qual", "UnqQual", "utility", "answers"],
                  [[f"{r.div_cov:.4f}", str(r.num_unique), f"{r.qual:.3f}", f"{r.unq_qual:.3f}",
                    f"{r.utility:.3f}", str(len(r.partition))]])


def sweep_table(points, diversity=None, quality=None):
    """Rows (gamma, base share, switches, mean length[, diversity][, quality]) of a sweep.

    `diversity` / `quality` are functions of a BacoResult (e.g. lambda r: breadth.distinct_n(r.texts, 2)).
    """
    rows = []
    for p in points:
        s = p.result.summary
        row = {"gamma": p.gamma, "base_share": s.base_share, "switches": s.switches, "mean_length": s.mean_length}
        if diversity is not None:
            row["diversity"] = float(diversity(p.result))
        if quality is not None:
            row["quality"] = float(quality(p.result))
        rows.append(row)
    return rows


def plot_sweep(points, diversity, quality=None, ax=None, label=None, annotate=True):
    """Draws a diversity-quality curve of a gamma sweep (BACO Fig. 1B) with matplotlib.

    points: the list BacoDecoder.sweep returns. diversity(result) gives the y value; quality(result)
    the x value (default: 1 - base share, the aligned model's share, a proxy for quality). Returns the
    matplotlib Axes.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("plot_sweep needs matplotlib (pip install matplotlib)") from e
    rows = sweep_table(points, diversity=diversity,
                       quality=quality or (lambda r: 1.0 - r.summary.base_share))
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    xs = [r["quality"] for r in rows]
    ys = [r["diversity"] for r in rows]
    ax.plot(xs, ys, marker="o", label=label or (points[0].result.rule.split(":")[0] if points else None))
    if annotate:
        for r in rows:
            if math.isfinite(r["quality"]) and math.isfinite(r["diversity"]):
                ax.annotate(f"γ={r['gamma']:g}", (r["quality"], r["diversity"]), textcoords="offset points",
                            xytext=(4, 4), fontsize=8)
    ax.set_xlabel("quality" if quality else "aligned share (1 - base share)")
    ax.set_ylabel("diversity")
    ax.grid(True, alpha=0.3)
    if label or points:
        ax.legend()
    return ax


def install():
    """Gives the bound result classes their notebook representations."""
    from . import _breadth as b

    b.BacoResult._repr_html_ = baco_result_html
    b.BacoSample._repr_html_ = lambda s: baco_sample_html(s)
    b.Generation._repr_html_ = generation_html
    b.AnswerSet._repr_html_ = answer_set_html
    b.DivCovResult._repr_html_ = divcov_html
