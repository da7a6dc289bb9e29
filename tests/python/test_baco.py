"""breadth.BacoDecoder and breadth.Rule: named rules, Python rules, sweeps, provenance, streaming."""

import math
import threading
import time

import pytest

import breadth

PROMPT = "Tell me a story about a cat."


@pytest.fixture(scope="module")
def dec(base, aligned):
    return breadth.BacoDecoder(base, aligned)


def test_decoder_basics(dec):
    assert dec.shared_vocabulary
    assert repr(dec) == "<breadth.BacoDecoder base=llama aligned=llama shared_vocabulary=True>"
    assert dec.aligned_prompt(PROMPT)[0] == dec.aligned_prompt("other")[0]  # the chat template's start
    assert len(dec.base_prompt(PROMPT)) < len(dec.aligned_prompt(PROMPT))


def test_base_template(dec, base):
    # Default: the prompt and a newline (BACO Appendix A), with the specials raw text gets.
    assert dec.base_prompt(PROMPT) == base.tokenize(PROMPT + "\n", add_special=True)
    assert dec.base_prompt(PROMPT, base_template=None) == dec.base_prompt(PROMPT)
    fmt = "Question: {prompt}\nAnswer:"
    assert dec.base_prompt(PROMPT, base_template=fmt) == base.tokenize(
        "Question: " + PROMPT + "\nAnswer:", add_special=True)
    kw = dict(rule="rand:1.0", n=2, max_new_tokens=8, seed=3)
    ids = lambda res: [[t.id for t in s.tokens] for s in res.samples]  # noqa: E731
    default = ids(dec.generate(PROMPT, **kw))
    assert ids(dec.generate(PROMPT, base_template="{prompt}\n", **kw)) == default
    assert ids(dec.generate(PROMPT, base_template=fmt, **kw)) != default
    pts = dec.sweep(PROMPT, "rand", [1.0], base_template="{prompt}\n", n=2, max_new_tokens=8, seed=3)
    assert ids(pts[0].result) == default
    with pytest.raises(ValueError, match="oops"):
        dec.generate(PROMPT, base_template="{oops}", **kw)


def test_resident_step(dec):
    """step='resident' emits what the host-driven step emits (the C++ tests check every record and
    count the host reads); it needs eager decoding."""
    kw = dict(rule="p-punc:0.5", n=3, max_new_tokens=16, seed=2, lazy=False)
    recs = lambda res: [[(t.id, t.source, t.reason, t.base_candidate, t.aligned_candidate)  # noqa: E731
                         for t in s.tokens] for s in res.samples]
    host = recs(dec.generate(PROMPT, step="host-driven", **kw))
    assert recs(dec.generate(PROMPT, step="resident", **kw)) == host
    assert recs(dec.generate(PROMPT, **kw)) == host  # 'auto'
    with pytest.raises(ValueError, match="lazy = false"):
        dec.generate(PROMPT, rule="p:0.3", n=1, step="resident")
    with pytest.raises(ValueError, match="step must be auto"):
        dec.generate(PROMPT, n=1, step="gpu")


def test_models_with_their_own_device_and_dtype(fx, dec):
    """Each Model carries its own device and dtype, so BacoDecoder takes a bfloat16 base beside a
    float32 aligned model (on a GPU machine, e.g. Model(base, device="cpu") beside
    Model(aligned, device="cuda")). With rule p at gamma 0 every token is the aligned model's: the
    tokens and aligned statistics are the all-float32 run's, the base statistics are bfloat16's."""
    import os
    base16 = breadth.Model(os.path.join(fx, "base"), device="cpu", dtype="bfloat16")
    mixed = breadth.BacoDecoder(base16, breadth.Model(os.path.join(fx, "aligned"), device="cpu", dtype="float32"))
    kw = dict(rule="p:0", n=2, max_new_tokens=12, seed=6, lazy=False)
    toks = lambda res: [t for s in res.samples for t in s.tokens]  # noqa: E731
    a, b = toks(dec.generate(PROMPT, **kw)), toks(mixed.generate(PROMPT, **kw))
    assert [(t.id, t.p_aligned_max) for t in b] == [(t.id, t.p_aligned_max) for t in a]
    diffs = [abs(x.p_base_max - y.p_base_max) for x, y in zip(a, b)]
    assert 0 < max(diffs) < 0.1


def test_named_rule_result(dec):
    res = dec.generate(PROMPT, rule="rand:1.0", n=3, max_new_tokens=10, seed=4, lazy=False)
    assert isinstance(res, breadth.BacoResult) and len(res) == 3 and res.rule == "rand:1"
    s = res.samples[0]
    assert s.tokens[0].source == "aligned" and s.tokens[0].reason == "first_token"
    # Token texts are bytes that may end mid-character; compare the raw bytes, not replaced str.
    assert s.raw == b"".join(t.raw for t in s.tokens)
    assert s.text == s.raw.decode("utf-8", errors="replace")
    assert res.summary.base_share > 0.5 and res.summary.samples == 3
    assert all(t.p_base_max is not None and 0 < t.p_base_max <= 1 for t in s.tokens if not t.eos)
    html = res._repr_html_()
    assert "background:#cfe8ff" in html and "rand:1" in html
    assert repr(res).startswith("<breadth.BacoResult rule='rand:1' samples=3")
    with pytest.raises(ValueError, match="no-such"):
        dec.generate(PROMPT, rule="no-such:0.1", n=1)
    assert "punc" in breadth.rule_names() and "rand" in breadth.rule_names()


def test_python_rule_always_aligned_is_aligned_sampling(dec, aligned):
    seen = []

    def rule(step):
        seen.append((step.has_base, step.p_base_max, step.position))
        return "aligned"

    res = dec.generate(PROMPT, rule=rule, n=3, max_new_tokens=10, seed=9)
    ref = breadth.Sampler(top_p=0.9).generate(aligned, PROMPT, n=3, max_new_tokens=10, seed=9)
    for got, want in zip(res.samples, ref.samples):
        # Equal up to a step where BACO redrew an aligned EOS that was not the top-1 (invariant 3).
        ids = []
        for t in got.tokens:
            if t.eos_redraws:
                break
            ids.append(t.id)
        assert ids == want.tokens[:len(ids)]
        if len(ids) == len(got.tokens):
            assert len(ids) == len(want.tokens)
    assert seen and all(h for h, _, _ in seen) and all(0 < p <= 1 for _, p, _ in seen)


def test_rule_objects(dec):
    calls = {"n": 0}

    def base_when_sure(step):
        calls["n"] += 1
        assert step.has_base and not math.isnan(step.p_base_max)
        return True  # True = base

    r = breadth.Rule.from_function("always-base", base_when_sure, needs="base")
    assert r.name == "always-base" and repr(r) == "Rule('always-base')"
    res = dec.generate(PROMPT, rule=r, n=2, max_new_tokens=10, seed=1)
    assert calls["n"] > 0
    decided = [t for s in res.samples for t in s.tokens if t.reason == "rule"]
    assert decided and all(t.source == "base" for t in decided)
    # Cascade: an aligned-first stage decides alone.
    calls["n"] = 0
    cas = breadth.Rule.cascade([breadth.Rule.from_function("a", lambda s: "aligned"), r], name="mine")
    res = dec.generate(PROMPT, rule=cas, n=2, max_new_tokens=8, seed=1)
    assert calls["n"] == 0 and res.summary.base_tokens == 0 and res.rule == "mine"
    assert breadth.Rule("p-punc:0.3").name == "p-punc:0.3"
    with pytest.raises(ValueError, match="needs"):
        breadth.Rule.from_function("x", lambda s: True, needs="neither")


def test_python_rule_errors(dec):
    def broken(step):
        return 1 / 0

    with pytest.raises(ZeroDivisionError):
        dec.generate(PROMPT, rule=broken, n=2, max_new_tokens=6)
    with pytest.raises(ZeroDivisionError):
        dec.generate(PROMPT, rule=breadth.Rule.from_function("b", broken), n=2, max_new_tokens=6)
    with pytest.raises(ValueError, match="returned 42"):
        dec.generate(PROMPT, rule=lambda s: 42, n=1, max_new_tokens=6)


def test_sweep_and_table(dec):
    pts = dec.sweep([PROMPT, "Name a color, please!"], "rand", [0.0, 0.5, 1.0], n=2, max_new_tokens=8, seed=3)
    shares = [p.result.summary.base_share for p in pts]
    assert [p.gamma for p in pts] == [0.0, 0.5, 1.0]
    # Switches happen only at word boundaries, so even rand:1 keeps aligned tokens inside words.
    assert shares[0] == 0.0 and shares[0] <= shares[1] <= shares[2] and shares[2] > 0.2
    rows = breadth.sweep_table(pts, diversity=lambda r: breadth.distinct_n(r.texts, 2))
    assert [r["gamma"] for r in rows] == [0.0, 0.5, 1.0] and all(0 <= r["diversity"] <= 1 for r in rows)
    import matplotlib

    matplotlib.use("Agg")
    ax = breadth.plot_sweep(pts, diversity=lambda r: breadth.distinct_n(r.texts, 2))
    assert len(ax.lines) == 1 and len(ax.lines[0].get_xdata()) == 3


def test_streaming_stop_and_summary(dec):
    counts = {}

    def on_token(row, rec):
        counts[row] = counts.get(row, 0) + 1
        assert rec.source in ("base", "aligned")
        return not (row == 1 and counts[row] == 3)

    res = dec.generate(PROMPT, rule="p-punc:0.5", n=3, max_new_tokens=10, seed=2, on_token=on_token)
    assert res.samples[1].finish == "callback" and len(res.samples[1].tokens) == 3
    for i, s in enumerate(res.samples):
        assert counts[i] == len(s.tokens)
    summ = breadth.summarize(res.samples)
    assert summ.tokens == res.summary.tokens and summ.base_tokens == res.summary.base_tokens


def test_baco_releases_the_gil(dec):
    ticks, stop = [], threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)
    start = time.perf_counter()
    dec.generate(PROMPT, rule="p-punc:0.5", n=8, max_new_tokens=32, seed=0, lazy=False)
    end = time.perf_counter()
    stop.set()
    t.join()
    assert len([x for x in ticks if start < x < end]) >= 10
