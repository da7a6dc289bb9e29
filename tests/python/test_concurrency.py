"""One Model pair, its tokenizer and an Encoder shared by 8 Python threads at once: generation, BACO,
tokenization, embedding and DivCov (embedding equivalence on the shared encoder). The long calls release
the GIL, so the threads really run the library concurrently; every result must equal the same call made
alone before any thread started. Bounded by BREADTH_STRESS_SECONDS (default 10); every thread completes
at least one round of every job. Nothing here measures time."""

import os
import threading
import time

import breadth

THREADS = 8
PROMPTS = ["Tell me a story about a cat.", "Name a color, please!", "What is the capital of France?"]
SETS = [["A cat sat on the mat.", "A kitten sat on the rug.", "Stock prices fell sharply."],
        ["red", "Red", "blue", "a shade of red"]]


def test_shared_models_from_8_threads(aligned, base, minilm):
    enc = breadth.Encoder(minilm)
    dec = breadth.BacoDecoder(base, aligned)
    sampler = breadth.Sampler(temperature=1.0, top_p=0.9)
    divcov = breadth.DivCov(enc, threshold=0.8)

    jobs = []
    for p, prompt in enumerate(PROMPTS):
        jobs.append((f"generate {prompt}", lambda prompt=prompt, p=p: [
            (tuple(s.tokens), s.text) for s in sampler.generate(aligned, [prompt], n=3, max_new_tokens=8, seed=p).samples]))
        jobs.append((f"baco {prompt}", lambda prompt=prompt, p=p: [
            (tuple((t.id, t.source) for t in s.tokens), s.text)
            for s in dec.generate([prompt], rule="rand:0.5", n=3, max_new_tokens=8, seed=p).samples]))
        jobs.append((f"tokenize {prompt}", lambda prompt=prompt: tuple(aligned.tokenize(prompt, chat=True))))
    for k, answers in enumerate(SETS):
        jobs.append((f"embed {k}", lambda answers=answers: enc.embed(answers).flatten().tolist()))
        jobs.append((f"divcov {k}", lambda answers=answers: (
            lambda r: (tuple(r.partition), r.num_unique, r.div_cov))(divcov.evaluate("q", answers))))

    ref = [job() for _, job in jobs]
    seconds = float(os.environ.get("BREADTH_STRESS_SECONDS", "10"))
    deadline = time.monotonic() + seconds
    failures, rounds = [], [0] * THREADS
    barrier = threading.Barrier(THREADS)

    def worker(t):
        barrier.wait()
        done, k = 0, t
        while True:
            j = k % len(jobs)
            try:
                got = jobs[j][1]()
            except Exception as e:  # noqa: BLE001 - reported as a difference
                got = f"exception: {e!r}"
            if got != ref[j]:
                failures.append(f"thread {t}, {jobs[j][0]}: alone {ref[j]!r:.200} concurrent {got!r:.200}")
            done += 1
            k += 1
            if done >= len(jobs) and time.monotonic() >= deadline:
                break
        rounds[t] = done

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures[:3]
    assert all(r >= len(jobs) for r in rounds), rounds
