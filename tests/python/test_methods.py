"""BACO's comparison methods from Python: each method's defining property on the tiny bindings models."""

import pytest

import breadth

PROMPTS = ["Tell me a story about a cat.", "Name a color, please!"]
KW = dict(n=3, max_new_tokens=10, seed=4)


def toks(res):
    return [s.tokens for s in res.samples]


def test_logit_ensemble_w0_is_aligned_sampling(base, aligned):
    ens = breadth.logit_ensemble(base, aligned, PROMPTS, w=0.0, **KW)
    ref = breadth.Sampler(top_p=0.9).generate(aligned, PROMPTS, **KW)
    assert toks(ens) == [s.tokens for s in ref.samples]
    assert ens.texts == [s.text for s in ref.samples]
    assert [s.source for s in ens.samples] == ["aligned"] * 6
    assert ens.method == "logit_ensemble" and ens.num_samples == 3


def test_logit_ensemble_sweep_and_errors(base, aligned):
    pts = breadth.logit_ensemble(base, aligned, PROMPTS[0], w=[0.0, 0.5], **KW)
    assert [p.value for p in pts] == [0.0, 0.5]
    assert toks(pts[1].result) == toks(breadth.logit_ensemble(base, aligned, PROMPTS[0], w=0.5, **KW))
    with pytest.raises(breadth.InvalidArgumentError, match="options.w"):
        breadth.logit_ensemble(base, aligned, PROMPTS, w=2.0, **KW)


def test_response_ensemble_split(base, aligned):
    res = breadth.response_ensemble(base, aligned, PROMPTS, ratio=0.5, n=4, max_new_tokens=8, seed=1)
    assert [s.source for s in res.samples] == ["base", "base", "aligned", "aligned"] * 2
    ref = breadth.Sampler(top_p=0.9).generate(aligned, PROMPTS, n=2, max_new_tokens=8, seed=1, first_sample_index=2)
    assert [s.tokens for s in res.samples if s.source == "aligned"] == [s.tokens for s in ref.samples]


def test_nudging_rule_from_provenance(base, aligned):
    res = breadth.nudging(base, aligned, PROMPTS, threshold=0.5, n=2, max_new_tokens=16, seed=2)
    assert len(res.provenance) == len(res.samples) == 4
    for s in res.provenance:
        assert s.tokens[0].source == "aligned"
        for t in s.tokens[1:]:
            if t.reason == "rule":
                assert t.source == ("aligned" if t.p_base_max < 0.5 else "base")
    pts = breadth.nudging(base, aligned, PROMPTS[0], threshold=[0.1, 0.9], n=1, max_new_tokens=8)
    assert [p.value for p in pts] == [0.1, 0.9]


def test_prompting_methods(aligned):
    ic = breadth.in_context(aligned, PROMPTS[1], **KW)
    assert [s.prompt_text for s in ic.samples] == [PROMPTS[1]] + [breadth.IN_CONTEXT_FOLLOW_UP] * 2
    pp = breadth.paraphrase(aligned, PROMPTS[1], paraphrase_max_new_tokens=12, **KW)
    assert len(pp) == 3 and all(s.prompt_text for s in pp.samples)
    sv = breadth.system_vanilla(aligned, PROMPTS[1], **KW)
    assert sv.samples[0].prompt_text == breadth.SYSTEM_VANILLA_PROMPT + "\n" + PROMPTS[1]
    vb = breadth.verbalized(aligned, PROMPTS[1], **KW)
    assert vb.samples[0].prompt_text == breadth.verbalized_prompt(PROMPTS[1])
    fixed = breadth.verbalized(aligned, "Output all days of the week.", kind="fixed", item="day", items="days", **KW)
    assert fixed.samples[0].prompt_text == breadth.verbalized_prompt(
        "Output all days of the week.", kind="fixed", item="day", items="days")
    assert breadth.verbalized_prompt("Output all days of the week.", kind="fixed", item="day", items="days").endswith(
        "like this: {(day_1,probability_1), (day_2,probability_2) ...}. Don't output code.\"")


def test_diverse_beam(aligned):
    res = breadth.diverse_beam(aligned, PROMPTS[0], groups=2, penalty=100.0, n=4, max_new_tokens=6)
    assert len(res) == 4
    assert res.samples[0].tokens[0] != res.samples[2].tokens[0]  # the groups start differently
    assert res.samples[0].score >= res.samples[1].score
    with pytest.raises(ValueError, match="multiple of options.groups"):
        breadth.diverse_beam(aligned, PROMPTS[0], groups=3, n=4)


def test_temperature_sweep(aligned):
    pts = breadth.temperature_sweep(aligned, PROMPTS[0], [0.0, 1.0], n=2, max_new_tokens=6)
    assert [p.value for p in pts] == [0.0, 1.0]
    assert pts[0].result.samples[0].tokens == pts[0].result.samples[1].tokens
