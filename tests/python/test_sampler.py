"""breadth.Sampler: generation (against transformers), streaming, seeds, answer sets, the GIL."""

import threading
import time

import pytest
import torch

import breadth


def test_greedy_equals_transformers(aligned, ref):
    g = breadth.Sampler(temperature=0).generate(aligned, ref["prompt"], max_new_tokens=ref["max_new"], chat=False)
    assert len(g) == 1 and isinstance(g, breadth.Generation)
    s = g[0]
    assert s.tokens == ref["greedy_tokens"]
    assert s.text == ref["greedy_text"]
    assert len(s.logprobs) == len(s.tokens) and s.sum_logprob == pytest.approx(sum(s.logprobs), rel=1e-5)
    assert s.finish in ("eos", "length")
    assert repr(s).startswith("Sample(prompt=0, index=0")


def test_seeded_samples_are_independent_of_the_batch(aligned):
    smp = breadth.Sampler(top_p=0.9)
    three = smp.generate(aligned, "Name a color, please!", n=3, max_new_tokens=8, seed=5)
    again = smp.generate(aligned, ["Name a color, please!"], n=3, max_new_tokens=8, seed=5)
    assert [s.tokens for s in three.samples] == [s.tokens for s in again.samples]
    second = smp.generate(aligned, "Name a color, please!", n=1, max_new_tokens=8, seed=5, first_sample_index=1)
    assert second[0].tokens == three[1].tokens and second[0].sample_index == 1
    assert three.texts == [s.text for s in three.samples]
    # cuda_graph: the fixed-shape decode step (eager on the CPU) gives the same samples.
    graphed = smp.generate(aligned, "Name a color, please!", n=3, max_new_tokens=8, seed=5, cuda_graph=True)
    assert [s.tokens for s in graphed.samples] == [s.tokens for s in three.samples]


def test_transform_hand_worked():
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.0]])
    out = breadth.Sampler(top_k=2).transform(logits)
    assert torch.isfinite(out).tolist() == [[False, True, True, False]]
    out = breadth.Sampler(temperature=2.0).transform(logits)
    torch.testing.assert_close(out, logits / 2)
    with pytest.raises(ValueError, match="top_p"):
        breadth.Sampler(top_p=0.0)


def test_streaming_and_stopping(aligned):
    pieces, counts = {}, {}

    def on_token(row, token, piece):
        pieces[row] = pieces.get(row, "") + piece
        counts[row] = counts.get(row, 0) + 1
        return not (row == 0 and counts[row] == 2)

    g = breadth.Sampler().generate(aligned, "Tell me a story about a cat.", n=3, max_new_tokens=10, seed=2,
                                   on_token=on_token)
    assert g[0].finish == "callback" and len(g[0].tokens) == 2
    for i in (1, 2):
        assert counts[i] == len(g[i].tokens)
        assert pieces[i] == g[i].text


def test_callback_exceptions_propagate(aligned):
    def boom(row, token, piece):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        breadth.Sampler().generate(aligned, "Hi", n=2, max_new_tokens=4, on_token=boom)

    calls = []

    def cancel(done, total, label):
        calls.append((done, total, label))
        return False

    with pytest.raises(breadth.Error, match="cancel"):
        breadth.Sampler().generate(aligned, "Hi", n=2, max_new_tokens=8, progress=cancel)
    assert calls and calls[0][2] == "generate"
    # progress=True draws a tqdm bar; it must not change the result.
    a = breadth.Sampler().generate(aligned, "Hi", n=2, max_new_tokens=4, seed=1, progress=True)
    b = breadth.Sampler().generate(aligned, "Hi", n=2, max_new_tokens=4, seed=1)
    assert [s.tokens for s in a.samples] == [s.tokens for s in b.samples]


def test_generation_releases_the_gil(aligned):
    """Another Python thread keeps running while a generation is in flight."""
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)
    start = time.perf_counter()
    # Tiny fixture models are fast: keep generating until the call has lasted long enough to observe.
    calls = 0
    while time.perf_counter() - start < 0.3 and calls < 200:
        breadth.Sampler().generate(aligned, "Tell me a story about a cat.", n=16, max_new_tokens=64, seed=calls,
                                   stop_at_eos=False)
        calls += 1
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    # With the GIL held the thread could not tick at all during the call.
    assert end - start > 0.05, "generation too fast to observe"
    # Between calls the GIL is free anyway; most of the ticks must come from inside the calls.
    assert len(during) >= 10, f"only {len(during)} ticks in {end - start:.3f}s"


def test_answer_sets(aligned, base):
    aset = breadth.Sampler().answer_set([aligned, base], "Name a day of the week.", kind="fixed", strategy="one",
                                        budget=4, batch=2, max_generations=2, max_new_tokens=6, item="day",
                                        items="days")
    assert len(aset.models) == 2
    for m in aset.models:
        assert 1 <= m.generations <= 2 and m.failed_generations <= m.generations and m.target == 2
        assert sorted(m.parsed_by) == ["braces", "json", "line", "list", "none"]
        assert sum(m.parsed_by.values()) == m.generations and m.parsed_by["none"] == m.failed_generations
    assert len(aset) == sum(m.collected for m in aset.models) <= 4
    assert aset.complete == all(m.collected == m.target for m in aset.models)
    assert "answers from 2 models" in aset._repr_html_()
    with pytest.raises(ValueError, match="budget"):
        breadth.Sampler().answer_set(aligned, "q", budget=0)
    with pytest.raises(ValueError, match="kind"):
        breadth.Sampler().answer_set(aligned, "q", kind="weird")


def test_parsers_and_prompts():
    assert breadth.parse_answers("Sure! {Monday, Friday}", kind="fixed").answers == ["Monday", "Friday"]
    p = breadth.parse_answers('[{"answer-id": 1, "content": "A fox"}, {"answer-id": 2, "content": "A ho', kind="open")
    assert p.answers == ["A fox"] and p.ok and p.parser == "json"
    # Without the requested JSON, a chatty bulleted list is read (quotes and commentary stripped).
    lst = breadth.parse_answers('Here are some fruits:\n\n- "Apple" - crunchy\n- "Banana"\n\nEnjoy!', kind="open")
    assert lst.answers == ["Apple", "Banana"] and lst.parser == "list"
    bad = breadth.parse_answers("no answers here", kind="open")
    assert not bad.ok and bad.failure and bad.parser == "none"
    prompt = breadth.answer_prompt("Name a day of the week.", strategy="one", kind="fixed", item="day", items="days")
    # The paper's Figure 7 breaks the line after "braces,"; compare with whitespace folded.
    assert "Output only the day between two curly braces, like this: {day}." in " ".join(prompt.split())
    assert breadth.split_budget(5, 2) == [3, 2]
    assert breadth.split_budget(10, 2, [3, 1]) == [8, 2]  # 7.5 / 2.5: ties go to the lower index
