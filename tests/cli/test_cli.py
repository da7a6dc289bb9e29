"""The `breadth` command-line tool against independent references.

Every subcommand is run as a subprocess and its output compared with what the reference libraries
compute here: transformers (logits, greedy generation, chat templates, BACO's per-step statistics),
nltk / rouge-score / vendi-score (eval metrics), NoveltyBench's shipped figures (utility), SPEC §5
worked by hand and re-implemented in plain Python (pareto), Python's XML parser (the SVG).

Inputs (set by ctest, tests/CMakeLists.txt): BREADTH_CLI (the executable), BREADTH_FIXTURES_DIR with
the fixtures `tiny_decoders` (tests/fixtures/make_tiny_decoders.py), `bindings`
(tests/capi/make_bindings_fixture.py: tiny base/aligned llamas sharing a byte-level BPE tokenizer)
and `smollm2_reference` (tests/fixtures/make_smollm2_reference.py: transformers loading the real
SmolLM2-135M-Instruct GGUF), BREADTH_SHARED_DIR (NoveltyBench data), BREADTH_MODELS_DIR (the GGUF).
"""

import json
import math
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("BREADTH_SOURCE_DIR", os.path.normpath(os.path.join(HERE, "../..")))
BINARY = os.environ.get("BREADTH_BINARY_DIR", os.path.join(SOURCE, "build"))
CLI = os.environ.get("BREADTH_CLI", os.path.join(BINARY, "bin", "breadth"))
FIXTURES = os.environ.get("BREADTH_FIXTURES_DIR", os.path.join(BINARY, "fixtures"))
SHARED = os.environ.get("BREADTH_SHARED_DIR", os.path.normpath(os.path.join(SOURCE, "../shared")))
MODELS = os.environ.get("BREADTH_MODELS_DIR", os.path.expanduser("~/.cache/breadth/models"))

TINY = os.path.join(FIXTURES, "tiny_decoders")
BIND = os.path.join(FIXTURES, "bindings")
BASE, ALIGNED = os.path.join(BIND, "base"), os.path.join(BIND, "aligned")
GGUF = os.path.join(MODELS, "smollm2-135m-instruct.gguf")
SMOL_REF = os.path.join(FIXTURES, "smollm2_reference", "smollm2.ref.safetensors")
NB = os.path.join(SHARED, "data", "noveltybench")
NB_SCORES = os.path.join(NB, "gemini-1.5-pro-curated-scores.jsonl")
NB_MEAN_UTILITY = json.load(open(os.path.join(NB, "gemini-1.5-pro-curated-summary.json")))["mean_utility"]
PROMPT = "Tell me a story about a cat."


def run(*args, check=True, env=None):
    """Runs the CLI; returns the CompletedProcess with bytes stdout/stderr."""
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, env=env, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f"breadth {' '.join(map(str, args))} exited {r.returncode}:\n{r.stderr.decode()}")
    return r


def run_json(*args):
    return json.loads(run(*args).stdout)


@pytest.fixture(scope="session", autouse=True)
def inputs_exist():
    for p in (CLI, TINY, BIND, NB_SCORES):
        assert os.path.exists(p), f"{p} is missing (run through ctest, which makes the fixtures)"


@pytest.fixture(scope="session")
def torch_mod():
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    return torch


def hf_causal_lm(path):
    import torch
    import transformers as tf

    return tf.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager").eval()


@pytest.fixture(scope="session")
def hf_tok():
    import transformers as tf

    return {"base": tf.AutoTokenizer.from_pretrained(BASE), "aligned": tf.AutoTokenizer.from_pretrained(ALIGNED)}


@pytest.fixture(scope="session")
def hf_models(torch_mod):
    return {"base": hf_causal_lm(BASE), "aligned": hf_causal_lm(ALIGNED)}


def bytes_to_unicode():
    """GPT-2's byte <-> printable-character table, which byte-level BPE vocabularies spell tokens in."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


BYTE_OF = bytes_to_unicode()


def byte_level_bytes(pieces, ids, specials=()):
    """The exact bytes of `ids` under a byte-level BPE vocabulary (`pieces[id]` the token's spelling);
    special tokens spell themselves."""
    out = bytearray()
    for i in ids:
        piece = pieces[i]
        out += piece.encode() if i in specials else bytes(BYTE_OF[c] for c in piece)
    return bytes(out)


def one_line_error(r):
    """A failing run: non-zero status, one line on stderr starting 'breadth: error:', no backtrace."""
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode > 0, f"status {r.returncode} (negative: killed by a signal)"
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("breadth: error: "), f"stderr was: {err!r}"
    assert "frame #" not in err and "terminate called" not in err
    return lines[0]


# ------------------------------------------------------------------------------------ version, chat-template


def test_version():
    cmake = open(os.path.join(SOURCE, "CMakeLists.txt")).read()
    want = re.search(r"project\(breadth VERSION ([0-9.]+)", cmake).group(1)
    assert run("version").stdout.decode() == want + "\n"
    assert run("--version").stdout.decode().strip() == f"breadth {want}"


def test_chat_template_equals_transformers(hf_tok):
    tok = hf_tok["aligned"]
    conv = [{"role": "user", "content": PROMPT}]
    want = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=True)
    assert run("chat-template", "--model", ALIGNED, "--prompt", PROMPT).stdout.decode() == want
    sys_conv = [{"role": "system", "content": "Be brief."}] + conv
    want = tok.apply_chat_template(sys_conv, tokenize=False, add_generation_prompt=False)
    got = run("chat-template", "--model", ALIGNED, "--prompt", PROMPT, "--system", "Be brief.",
              "--no-generation-prompt", "--json").stdout
    assert json.loads(got) == want
    assert run("chat-template", "--plain", "--prompt", PROMPT).stdout.decode() == PROMPT
    assert run("chat-template", "--format", "Q: {prompt}\nA:", "--prompt", "hi").stdout.decode() == "Q: hi\nA:"
    # The base checkpoint has no template: a clear error pointing at --plain.
    assert "--plain" in one_line_error(run("chat-template", "--model", BASE, "--prompt", "x", check=False))


def test_chat_prompt_ids_of_the_gguf_equal_transformers():
    """The chat prompt `generate` feeds SmolLM2 (its GGUF template, one user turn, generation
    prompt, tokenized without added specials) equals transformers' apply_chat_template ids."""
    from safetensors.torch import load_file

    ref = load_file(SMOL_REF)
    got = json.loads(run("tokenize", "--model", GGUF, "--chat", "--text", "What is the capital of France?").stdout)
    assert got == ref["prompt_ids"].tolist()


# ------------------------------------------------------------------------------------ logits

TINY_CONFIGS = ["llama_gqa", "qwen3_qknorm", "olmo2", "mistral_window", "gemma2"]


@pytest.mark.parametrize("name", TINY_CONFIGS)
def test_logits_tiny_equal_transformers(name, torch_mod):
    torch = torch_mod
    path = os.path.join(TINY, name)
    ids = [1, 17, 5, 99, 42, 7, 150, 3, 64, 12, 88, 31]  # longer than mistral_window/gemma2's window of 8
    got = run_json("logits", "--model", path, "--ids", ",".join(map(str, ids)))
    model = hf_causal_lm(path)
    with torch.no_grad():
        want = model(input_ids=torch.tensor([ids])).logits[0, -1]
    assert len(got) == model.config.vocab_size
    err = (torch.tensor(got, dtype=torch.float64) - want.double()).abs().max().item()
    assert err <= 1e-4, f"{name}: max |breadth - transformers| = {err}"


# Both sides decode the Q4_1/Q8_0 blocks to the same float32 weights; they differ only by float32
# summation order through 30 layers on logits spanning about +-30: a few 1e-4 at most on other BLAS
# builds (tests/model/test_gguf.cpp, same tolerance). 2e-3 is still ~100x below the gaps between
# top logits that decide a greedy step here.
GGUF_TOL = 2e-3


def test_logits_gguf_equal_transformers(torch_mod):
    from safetensors.torch import load_file

    torch = torch_mod
    ref = load_file(SMOL_REF)
    # The 37-token chat prompt (one CLI run: each loads and dequantizes the GGUF). transformers
    # expands the GGUF to float32: so does --weights float.
    for ids, want in ((ref["prompt_ids"], ref["prompt_logits"][-1]),):
        got = torch.tensor(run_json("logits", "--model", GGUF, "--weights", "float", "--ids", ",".join(map(str, ids.tolist()))))
        assert got.shape == want.shape
        err = (got.double() - want.double()).abs().max().item()
        assert err <= GGUF_TOL, f"max |breadth - transformers| = {err}"
        assert int(got.argmax()) == int(want.argmax())


def test_logits_gguf_native_weights(torch_mod):
    """--weights native (the default) keeps the Q4_1/Q8_0 blocks quantized and computes the projections
    in bfloat16: its logits differ from transformers' float32 by no more than the float path run in
    bfloat16 does (tests/model/test_quantized.cpp derives why), and keep the top token."""
    from safetensors.torch import load_file

    torch = torch_mod
    ref = load_file(SMOL_REF)
    ids = ",".join(map(str, ref["prompt_ids"].tolist()))
    want = ref["prompt_logits"][-1].double()
    native = torch.tensor(run_json("logits", "--model", GGUF, "--ids", ids)).double()
    bf16 = torch.tensor(run_json("logits", "--model", GGUF, "--weights", "float", "--dtype", "bfloat16", "--ids", ids)).double()
    err_native = (native - want).abs().max().item()
    err_bf16 = (bf16 - want).abs().max().item()
    assert 0 < err_native <= err_bf16, (err_native, err_bf16)
    assert int(native.argmax()) == int(want.argmax())
    bad = run("logits", "--model", GGUF, "--weights", "int4", "--ids", ids, check=False)
    assert bad.returncode != 0 and b"--weights" in bad.stderr and b"native" in bad.stderr


# ------------------------------------------------------------------------------------ generate


def greedy_reference(model, ids, max_new, eos, torch):
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=max_new, eos_token_id=eos,
                             pad_token_id=eos, attention_mask=torch.ones(1, len(ids), dtype=torch.long))
    new = out[0, len(ids):].tolist()
    return new[: new.index(eos)] if eos in new else new


@pytest.mark.parametrize("role,raw", [("aligned", False), ("aligned", True), ("base", False)])
def test_generate_tiny_equals_transformers_greedy(role, raw, hf_tok, hf_models, torch_mod):
    """`generate` renders the chat template when the checkpoint has one (one user turn + generation
    prompt, no added specials) and otherwise, or with --raw, encodes the prompt with the
    tokenizer's post-processor; it stops before EOS and prints every other token (specials too)."""
    tok, model = hf_tok[role], hf_models[role]
    path = ALIGNED if role == "aligned" else BASE
    if tok.chat_template and not raw:
        text = tok.apply_chat_template([{"role": "user", "content": PROMPT}], tokenize=False,
                                       add_generation_prompt=True)
        ids = tok(text, add_special_tokens=False).input_ids
    else:
        ids = tok(PROMPT).input_ids
    new = greedy_reference(model, ids, 12, model.config.eos_token_id, torch_mod)
    want = tok.decode(new, skip_special_tokens=False)
    args = ["generate", "--model", path, "--prompt", PROMPT, "--max-tokens", 12] + (["--raw"] if raw else [])
    got = run(*args).stdout
    assert got.endswith(b"\n")
    # breadth streams bytes; a character split across tokens that never completes becomes U+FFFD,
    # as in transformers' decode.
    assert got[:-1].decode("utf-8") == want
    assert run(*args, "--cuda-graph").stdout == got  # the fixed-shape step (eager on the CPU)
    if len(new) > 3:  # --max-tokens truncates
        short = run("generate", "--model", path, "--prompt", PROMPT, "--max-tokens", 3,
                    *(["--raw"] if raw else [])).stdout
        assert short[:-1].decode("utf-8") == tok.decode(new[:3], skip_special_tokens=False)


def gguf_pieces():
    from gguf import GGUFReader

    r = GGUFReader(GGUF)
    f = r.fields["tokenizer.ggml.tokens"]
    pieces = [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    types = r.fields["tokenizer.ggml.token_type"]
    special = {i for i, k in enumerate(types.data) if int(types.parts[k][0]) == 3}  # CONTROL
    return pieces, special


def test_generate_gguf_equals_transformers_greedy():
    """SmolLM2 GGUF: transformers' greedy tokens (fixture, same chat prompt as checked above) cut at
    EOS, spelled through the GGUF's own vocabulary, equal what `generate` prints."""
    from safetensors.torch import load_file

    ref = load_file(SMOL_REF)
    pieces, special = gguf_pieces()
    greedy = ref["greedy_ids"].tolist()
    eos = 2  # <|im_end|>, SmolLM2-Instruct's EOS
    assert pieces[eos] == "<|im_end|>"
    new = greedy[: greedy.index(eos)]
    want = byte_level_bytes(pieces, new, special).decode("utf-8")
    q = "What is the capital of France?"
    assert run("generate", "--model", GGUF, "--prompt", q, "--max-tokens", 32).stdout.decode() == want + "\n"


# ------------------------------------------------------------------------------------ eval


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def test_eval_noveltybench_scores_file():
    """NoveltyBench's real scores.jsonl: utility per query equals the file's own, its mean the
    shipped summary's; div-cov and companions recomputed from the recorded partitions and scores
    (router paper §4.2, SPEC §4)."""
    recs = read_jsonl(NB_SCORES)
    out = run_json("eval", "--input", NB_SCORES, "--json")
    assert set(out) >= {"queries", "mean"}
    assert len(out["queries"]) == len(recs)
    assert abs(out["mean"]["utility"] - NB_MEAN_UTILITY) <= 1e-12
    for q, rec in zip(out["queries"], recs):
        assert q["id"] == rec["id"]
        part, ps, n = rec["partition"], rec["partition_scores"], len(rec["generations"])
        quality = [ps[c] for c in part]
        # NoveltyBench: a class's score at its first member, 0 for the rest; utility = sum p^i g_i / sum p^i.
        seen, g = set(), []
        for c in part:
            g.append(ps[c] if c not in seen else 0.0)
            seen.add(c)
        util = sum(0.8**i * x for i, x in enumerate(g)) / sum(0.8**i for i in range(n))
        assert q["utility"] == pytest.approx(rec["utility"], abs=1e-12)
        assert q["utility"] == pytest.approx(util, abs=1e-12)
        assert q["unq"] == q["distinct"] == len(set(part))
        assert q["div_cov"] == pytest.approx(sum(ps) / (n * 10.0), abs=1e-12)
        assert q["qual"] == pytest.approx(sum(quality) / n, abs=1e-12)
        assert q["unq_qual"] == pytest.approx(sum(ps) / len(ps), abs=1e-12)
    # A budget above the answer count lowers div-cov to Σ quality / (B · q_max).
    b20 = run_json("eval", "--input", NB_SCORES, "--budget", 20, "--json")
    for q, rec in zip(b20["queries"], recs):
        assert q["div_cov"] == pytest.approx(sum(rec["partition_scores"]) / 200.0, abs=1e-12)


def test_eval_partitions_with_arbitrary_labels(tmp_path):
    """Labels from another tool ([3, 3, 7, 1]) with partition_scores indexed by label; hand-worked:
    classes {a, b} (label 3, score 9), {c} (7, score 5), {d} (1, score 2); B = 4, q_max = 10."""
    path = tmp_path / "labels.jsonl"
    rec = {"id": "x", "prompt": "p", "generations": ["a", "b", "c", "d"], "partition": [3, 3, 7, 1],
           "partition_scores": [0, 2, 0, 9, 0, 0, 0, 5]}
    path.write_text(json.dumps(rec) + "\n")
    q = run_json("eval", "--input", path, "--json")["queries"][0]
    assert q["unq"] == 3 and q["distinct_legacy"] == 2
    assert q["div_cov"] == pytest.approx(16 / 40, abs=1e-12)
    assert q["qual"] == pytest.approx(25 / 4, abs=1e-12) and q["unq_qual"] == pytest.approx(16 / 3, abs=1e-12)
    assert q["utility"] == pytest.approx((9 + 0.64 * 5 + 0.512 * 2) / (1 + 0.8 + 0.64 + 0.512), abs=1e-12)
    rec["partition"] = [3, 3, 9, 1]  # label 9 has no score: refused with the line and the mapping
    path.write_text(json.dumps(rec) + "\n")
    r = run("eval", "--input", path, "--json", check=False)
    assert r.returncode != 0
    err = r.stderr.decode()
    assert "labels.jsonl:1" in err and "'partition[2]' = 9" in err and "indexed by the partition's labels" in err


def test_eval_table_output():
    recs = read_jsonl(NB_SCORES)
    text = run("eval", "--input", NB_SCORES).stdout.decode()
    lines = text.rstrip("\n").split("\n")
    assert lines[0].startswith("equivalence: ")
    header = lines[1].split()
    assert header[:6] == ["id", "div_cov", "unq", "qual", "unq_qual", "utility"]
    rows = {ln.split()[0]: ln.split() for ln in lines[2:]}
    assert len(lines) == 2 + len(recs) + 1 and "mean" in rows
    assert float(rows["mean"][header.index("utility")]) == pytest.approx(NB_MEAN_UTILITY, abs=5e-5)
    assert float(rows[recs[0]["id"]][header.index("utility")]) == pytest.approx(recs[0]["utility"], abs=5e-5)


@pytest.fixture(scope="module")
def short_queries(tmp_path_factory):
    """12 real NoveltyBench queries whose generations are short (rouge-score's LCS is slow Python)."""
    recs = [r for r in read_jsonl(NB_SCORES) if max(len(g.split()) for g in r["generations"]) <= 60][:12]
    path = tmp_path_factory.mktemp("eval") / "short.jsonl"
    write_jsonl(path, recs)
    return path, recs


def ngrams(tokens, n):
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def test_eval_metrics_equal_reference_libraries(short_queries):
    from nltk.tokenize import wordpunct_tokenize
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from rouge_score import rouge_scorer
    from vendi_score import vendi

    path, recs = short_queries
    out = run_json("eval", "--input", path, "--metrics", "distinct_1,distinct_2,self_bleu,self_rouge_l,vendi_ngram",
                   "--json")
    rl = rouge_scorer.RougeScorer(["rougeL"])
    smooth = SmoothingFunction().method1
    for q, rec in zip(out["queries"], recs):
        gens = rec["generations"]
        n = len(gens)
        words = [wordpunct_tokenize(g) for g in gens]  # docs/evaluation.md: nltk's wordpunct tokenizer
        for k in (1, 2):
            grams = [g for w in words for g in ngrams(w, k)]
            assert q[f"distinct_{k}"] == pytest.approx(len(set(grams)) / len(grams) if grams else 0.0, abs=1e-12)
        bleu = np.mean([sentence_bleu(words[:i] + words[i + 1 :], words[i], smoothing_function=smooth)
                        for i in range(n)])
        assert q["self_bleu"] == pytest.approx(bleu, abs=1e-9)
        pairs = [rl.score(gens[i], gens[j])["rougeL"].fmeasure for i in range(n) for j in range(i + 1, n)]
        assert q["self_rouge_l"] == pytest.approx(np.mean(pairs), abs=1e-9)
        # SPEC §5: Vendi of the n-gram Jaccard kernel, averaged over orders 1..4.
        K = np.zeros((n, n))
        for k in (1, 2, 3, 4):
            sets = [set(ngrams(w, k)) for w in words]
            for i in range(n):
                for j in range(n):
                    u = len(sets[i] | sets[j])
                    K[i, j] += len(sets[i] & sets[j]) / u if u else 0.0
        assert q["vendi_ngram"] == pytest.approx(float(vendi.score_K(K / 4)), rel=1e-9)
    for m in ("distinct_2", "self_bleu", "vendi_ngram"):
        assert out["mean"][m] == pytest.approx(np.mean([q[m] for q in out["queries"]]), abs=1e-12)


def greedy_classes(gens, equal):
    reps, part = [], []
    for g in gens:
        for c, r in enumerate(reps):
            if equal(r, g):
                part.append(c)
                break
        else:
            part.append(len(reps))
            reps.append(g)
    return part


def test_eval_equivalence_rouge1_and_budget(short_queries, tmp_path):
    """Without recorded partitions: classes from ROUGE-1 F > 0.458 (rouge-score) against each
    class's first member, quality const:1, so div-cov = #classes / B."""
    from rouge_score import rouge_scorer

    _, recs = short_queries
    bare = [{"id": r["id"], "prompt": r["prompt"], "generations": r["generations"]} for r in recs]
    path = tmp_path / "bare.jsonl"
    write_jsonl(path, bare)
    r1 = rouge_scorer.RougeScorer(["rouge1"])
    out = run_json("eval", "--input", path, "--equivalence", "rouge1", "--budget", 16, "--json")
    assert "rouge1" in out["equivalence"]
    for q, rec in zip(out["queries"], bare):
        part = greedy_classes(rec["generations"], lambda a, b: r1.score(a, b)["rouge1"].fmeasure > 0.458)
        assert q["unq"] == len(set(part))
        assert q["div_cov"] == pytest.approx(len(set(part)) / 16, abs=1e-12)
        assert q["qual"] == 1.0
    # exact (docs/evaluation.md): equal after lowercasing, whitespace runs to one space, and . , ; : ! ? " ' ` and
    # spaces stripped at both ends.
    short = bare[:4] + [{"id": "hand", "prompt": "Name a city.",
                         "generations": ["Paris", "paris.", "  PARIS ", "Lyon", "lyon!", "Paris, France", "'Lyon'",
                                         "New  York", "new york?", "NEW YORK CITY"]}]
    path = tmp_path / "short.jsonl"
    write_jsonl(path, short)
    exact = run_json("eval", "--input", path, "--equivalence", "exact", "--json")
    norm = lambda g: " ".join(g.lower().split()).strip(".,;:!?\"'` ")
    for q, rec in zip(exact["queries"], short):
        assert q["unq"] == len(set(map(norm, rec["generations"])))
    assert exact["queries"][-1]["unq"] == 5


# ------------------------------------------------------------------------------------ pareto


def ref_front(points):
    pts = sorted(set(points))
    return [p for p in pts if not any(q != p and q[0] >= p[0] and q[1] >= p[1] for q in pts)]


def ref_normalize(points, x_min, x_max, y_min, y_max, higher):
    out = []
    for x, y in points:
        nx = (x - x_min) / (x_max - x_min)
        ny = (y - y_min) / (y_max - y_min) if higher else (y_max - y) / (y_max - y_min)
        if 0 <= nx <= 1 and 0 <= ny <= 1:
            out.append((nx, ny))
    return out


def ref_coverage(points):
    """SPEC §5: flat from x=0 to the first Pareto point, linear between, 0 after the last."""
    f = ref_front(points)
    if not f:
        return 0.0
    area = f[0][0] * f[0][1]
    for (x0, y0), (x1, y1) in zip(f, f[1:]):
        area += (x1 - x0) * (y0 + y1) / 2
    return area


def ref_dominance(per_method):
    """SPEC §5: each global-frontier point owns the interval between the midpoints to its neighbours
    along an axis; shares over the span; a point reached by several methods is shared equally."""
    front = ref_front([p for m in per_method for p in m])
    owners = [[k for k, m in enumerate(per_method) if p in m] for p in front]
    shares = []
    for axis in (0, 1):
        order = sorted(range(len(front)), key=lambda i: front[i][axis])
        c = [front[i][axis] for i in order]
        span = c[-1] - c[0]
        s = [0.0] * len(per_method)
        for r, i in enumerate(order):
            lo = c[r] if r == 0 else (c[r - 1] + c[r]) / 2
            hi = c[r] if r == len(c) - 1 else (c[r] + c[r + 1]) / 2
            own = (hi - lo) / span if span > 0 else 1.0
            for k in owners[i]:
                s[k] += own / len(owners[i])
        shares.append(s)
    return [(q, d, 2 * q * d / (q + d) if q + d else 0.0) for q, d in zip(*shares)]


PARETO_INPUT = {"spaces": [
    {"name": "s1", "anchors": {"x_min": 0, "x_max": 10, "y_min": 0, "y_max": 1}, "higher_is_better": True,
     "methods": {"A": [[1, 0.9], [3, 0.8], [7, 0.3], [2, 0.5]], "B": [[5, 0.6], [9, 0.2], [11, 0.5]]}},
    {"name": "s2 <lower & better>", "base": [2, 0.9], "aligned": [8, 0.5], "bound": 0.1, "higher_is_better": False,
     "methods": {"A": [[5, 0.3]], "C": [[4, 0.2], [6, 0.4], [9, 0.3]]}},
]}


def test_pareto_hand_worked_and_reference(tmp_path):
    path, svg = tmp_path / "points.json", tmp_path / "plot.svg"
    path.write_text(json.dumps(PARETO_INPUT))
    out = run_json("pareto", "--input", path, "--json", "--svg", svg)
    s1 = out["spaces"]["s1"]
    # By hand, space s1 (x/10, y as is): A keeps (.1,.9) (.3,.8) (.7,.3) (.2,.5), B keeps (.5,.6) (.9,.2)
    # ((1.1,.5) is outside). Cov A = .1·.9 + .2·(.9+.8)/2 + .4·(.8+.3)/2 = .48; Cov B = .5·.6 + .4·(.6+.2)/2 = .46.
    # Global frontier by x: .1A .3A .5B .7A .9B, gaps .2 each over a span .8: Dom-Q A = (.1+.2+.2)/.8 = .625.
    # By y: .2B .3A .6B .8A .9A, gaps .1 .3 .2 .1 over .7: Dom-D A = (.2+.15+.05)/.7 = 4/7, B = 3/7.
    assert s1["A"]["coverage"] == pytest.approx(0.48, abs=1e-12)
    assert s1["B"]["coverage"] == pytest.approx(0.46, abs=1e-12)
    assert s1["A"]["dom_q"] == pytest.approx(0.625, abs=1e-12)
    assert s1["B"]["dom_q"] == pytest.approx(0.375, abs=1e-12)
    assert s1["A"]["dom_d"] == pytest.approx(4 / 7, abs=1e-12)
    assert s1["B"]["dom_d"] == pytest.approx(3 / 7, abs=1e-12)
    assert s1["A"]["dom"] == pytest.approx(2 * 0.625 * (4 / 7) / (0.625 + 4 / 7), abs=1e-12)
    assert (s1["A"]["kept_points"], s1["B"]["kept_points"]) == (4, 2)
    # Every space and the means against the plain-Python reference of SPEC §5.
    means, kept_total = {}, 0
    for sp in PARETO_INPUT["spaces"]:
        if "anchors" in sp:
            a = sp["anchors"]
            box = (a["x_min"], a["x_max"], a["y_min"], a["y_max"], sp["higher_is_better"])
        else:  # x from base to aligned quality; y from the aligned diversity to the bound (flipped: lower is better)
            box = (sp["base"][0], sp["aligned"][0], sp["bound"], sp["aligned"][1], sp["higher_is_better"])
        names = list(sp["methods"])
        norm = [ref_normalize(sp["methods"][m], *box) for m in names]
        dom = ref_dominance(norm)
        for k, m in enumerate(names):
            got = out["spaces"][sp["name"]][m]
            assert got["coverage"] == pytest.approx(ref_coverage(norm[k]), abs=1e-12)
            assert (got["dom_q"], got["dom_d"], got["dom"]) == pytest.approx(dom[k], abs=1e-12)
            assert got["kept_points"] == len(norm[k])
            kept_total += len(norm[k])
            means.setdefault(m, []).append((ref_coverage(norm[k]), dom[k][2]))
    for m, vals in means.items():  # absent from a space counts 0
        assert out["mean"][m]["coverage"] == pytest.approx(sum(v[0] for v in vals) / 2, abs=1e-12)
        assert out["mean"][m]["dom"] == pytest.approx(sum(v[1] for v in vals) / 2, abs=1e-12)
    # The SVG is well-formed XML with one marker per kept point, each inside a panel.
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == ns + "svg"
    circles = list(root.iter(ns + "circle"))
    assert len(circles) == kept_total
    panels = [r for r in root.iter(ns + "rect") if r.get("x") is not None]
    for c in circles:
        cx, cy = float(c.get("cx")), float(c.get("cy"))
        assert any(float(p.get("x")) - 1e-6 <= cx <= float(p.get("x")) + float(p.get("width")) + 1e-6 and
                   float(p.get("y")) - 1e-6 <= cy <= float(p.get("y")) + float(p.get("height")) + 1e-6
                   for p in panels)
    assert "s2 &lt;lower &amp; better&gt;" in svg.read_text()
    # The table prints the same figures, four decimals.
    table = run("pareto", "--input", path).stdout.decode()
    assert re.search(r"^A\s+0\.4800\s+0\.6250\s+0\.5714\s+0\.5970\s+4$", table, re.M)
    assert "mean over 2 space(s)" in table


# ------------------------------------------------------------------------------------ sample


def sample_args(models, seed, budget=4, extra=()):
    args = ["sample"]
    for m in models:
        args += ["--model", m]
    return args + ["--prompt", "Name a color.", "--strategy", "one", "--budget", budget, "--seed", seed,
                   "--max-new-tokens", 12, "--max-generations", 3, "--batch", 3, "--quiet", "--json", *extra]


def check_answer_set(out, models, budget):
    assert [m["path"] for m in out["models"]] == models
    assert sum(m["target"] for m in out["models"]) == budget
    assert out["budget"] == budget and out["strategy"] in ("one", "generate-one", "g-1")
    for a in out["answers"]:
        assert a["model"] == models[a["model_index"]]
        assert a["text"].strip()
    for k, m in enumerate(out["models"]):
        assert m["collected"] == sum(a["model_index"] == k for a in out["answers"]) <= m["target"]
        assert m["failed_generations"] == len(m["failures"]) <= m["generations"]
        assert sum(m["parsed_by"].values()) == m["generations"]
        assert m["parsed_by"]["none"] == m["failed_generations"]
    assert out["complete"] == all(m["collected"] == m["target"] for m in out["models"])


def test_sample_tiny_structure_split_and_seed():
    models = [ALIGNED, BASE]
    out = run_json(*sample_args(models, 7))
    check_answer_set(out, models, 4)
    assert [m["target"] for m in out["models"]] == [2, 2]  # equal halves by default
    assert all(m["generations"] >= 1 and m["generated_tokens"] >= 1 for m in out["models"])
    assert run_json(*sample_args(models, 7)) == out  # same seed, same output
    ratio = run_json(*sample_args(models, 7, budget=8, extra=["--ratio", 3, "--ratio", 1]))
    assert [m["target"] for m in ratio["models"]] == [6, 2]
    # Without --json: one "[model] answer" line per answer on stdout, a summary per model on stderr.
    r = run(*[a for a in sample_args(models, 7) if a != "--json"])
    assert r.stdout.decode().count("\n") == len(out["answers"])
    err = r.stderr.decode()
    for m in out["models"]:
        assert f"{m['path']}: {m['collected']}/{m['target']} answers from {m['generations']} generations" in err


def test_sample_smollm2_answers():
    """The real model answers (the tiny random one beside it never writes the answer format): every
    answer is non-empty and attributed to the model that gave it; the budget is split in halves.
    Generation-level seeding makes this deterministic; seed 3 gives SmolLM2 a parsable answer within
    its four generations (with the GGUF expanded to float32: the seed was found on that path)."""
    models = [GGUF, ALIGNED]
    args = ["sample", "--model", GGUF, "--model", ALIGNED, "--weights", "float", "--prompt", "Name a primary color.", "--strategy", "one",
            "--budget", 2, "--seed", 3, "--temperature", 0.7, "--max-new-tokens", 48, "--max-generations", 4,
            "--batch", 4, "--quiet", "--json"]
    out = run_json(*args)
    check_answer_set(out, models, 2)
    assert [m["target"] for m in out["models"]] == [1, 1]
    assert [a["model"] for a in out["answers"]] == [GGUF]
    assert out["models"][0]["collected"] == 1 and out["models"][1]["collected"] == 0
    assert not out["complete"]


# ------------------------------------------------------------------------------------ baco


def baco(*extra, rule="p-punc", gamma=0.3, n=3, seed=5, tokens=16):
    return ["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", PROMPT, "--rule", rule, "--gamma", gamma,
            "--n", n, "--seed", seed, "--max-tokens", tokens, *extra]


def token_bytes(t):
    return bytes(t["bytes"]) if "bytes" in t else t["text"].encode("utf-8")


def test_baco_json_provenance_and_invariants():
    out = run_json(*baco("--json", "--eager", n=4))
    assert out["rule"].startswith("p-punc") and len(out["samples"]) == 4
    base_total = 0
    for s in out["samples"]:
        toks = s["tokens"]
        assert toks[0]["source"] == "aligned"  # invariant 1
        assert b"".join(token_bytes(t) for t in toks) == token_bytes(s)
        assert s["base_tokens"] == sum(t["source"] == "base" for t in toks)
        assert s["switches"] == sum(a["source"] != b["source"] for a, b in zip(toks, toks[1:]))
        for t in toks:
            assert set(t) >= {"id", "text", "source", "p_base_max", "p_aligned_max", "h_base", "h_aligned"}
            assert t["source"] in ("base", "aligned")
            assert all(t[k] is not None for k in ("p_base_max", "p_aligned_max", "h_base", "h_aligned"))  # --eager
        base_total += s["base_tokens"]
    assert out["summary"]["base_tokens"] == base_total
    assert out["summary"]["tokens"] == sum(len(s["tokens"]) for s in out["samples"])


def test_baco_gamma_zero_is_all_aligned():
    out = run_json(*baco("--json", rule="p", gamma=0.0, n=3))
    assert all(t["source"] == "aligned" for s in out["samples"] for t in s["tokens"])
    assert out["summary"]["base_tokens"] == 0


@pytest.mark.parametrize("step", ["host-driven", "resident"])
def test_baco_rule_p_decisions_follow_recorded_statistics(step):
    gamma = 0.5
    out = run_json(*baco("--json", "--eager", "--step", step, rule="p", gamma=gamma, n=4, tokens=24))
    decided = [t for s in out["samples"] for t in s["tokens"] if t["reason"] == "rule"]
    assert decided, "no rule decision in 4 samples"
    for t in decided:  # SPEC §3: base iff max P_b < γ
        assert (t["source"] == "base") == (t["p_base_max"] < gamma)


@pytest.mark.parametrize("base_template", [None, "Question: {prompt}\nAnswer:"])
def test_baco_statistics_equal_transformers(hf_tok, hf_models, torch_mod, base_template):
    """p_base_max, p_aligned_max, h_base, h_aligned of every step of one sample, recomputed from
    transformers' logits: the base model sees the prompt and a newline (BACO Appendix A) or
    --base-template's text, with the tokenizer's specials as for raw text; the aligned one its chat
    template; both then the emitted ids (shared vocabulary)."""
    torch = torch_mod
    extra = [] if base_template is None else ["--base-template", base_template]
    out = run_json(*baco("--json", "--eager", *extra, n=2, tokens=16))
    s = out["samples"][1]
    emitted = [t["id"] for t in s["tokens"] if not t["eos"]]
    base_text = PROMPT + "\n" if base_template is None else base_template.replace("{prompt}", PROMPT)
    prompt_ids = {
        "base": hf_tok["base"](base_text).input_ids,
        "aligned": hf_tok["aligned"].apply_chat_template([{"role": "user", "content": PROMPT}],
                                                         add_generation_prompt=True, tokenize=True,
                                                         return_dict=False),
    }
    for role in ("base", "aligned"):
        p = prompt_ids[role]
        with torch.no_grad():
            logits = hf_models[role](input_ids=torch.tensor([p + emitted])).logits[0].double()
        probs = torch.softmax(logits[len(p) - 1 :], dim=-1)
        pmax = probs.max(-1).values
        ent = -(probs * torch.log(probs.clamp_min(1e-300))).sum(-1)
        for k, t in enumerate(s["tokens"]):
            assert abs(t[f"p_{role}_max"] - pmax[k].item()) <= 1e-4, (role, k)
            assert abs(t[f"h_{role}"] - ent[k].item()) <= 1e-4, (role, k)


def test_baco_per_model_dtype_and_device():
    """--base-dtype / --aligned-dtype / --base-device / --aligned-device reach their own model. With rule
    p at gamma 0 every token is the aligned model's, so a bfloat16 base keeps the tokens and the aligned
    statistics of the all-float32 run while its own recorded statistics move (within bfloat16's
    precision); --dtype with one override the other way round is the same pair."""
    ref = run_json(*baco("--json", "--eager", rule="p", gamma=0.0, n=3))
    mixed = run_json(*baco("--json", "--eager", "--base-dtype", "bfloat16", "--base-device", "cpu",
                           "--aligned-device", "cpu", rule="p", gamma=0.0, n=3))
    toks = lambda out: [t for s in out["samples"] for t in s["tokens"]]
    assert [t["id"] for t in toks(mixed)] == [t["id"] for t in toks(ref)]
    assert [(t["p_aligned_max"], t["h_aligned"]) for t in toks(mixed)] == \
        [(t["p_aligned_max"], t["h_aligned"]) for t in toks(ref)]
    diffs = [abs(a["p_base_max"] - b["p_base_max"]) for a, b in zip(toks(mixed), toks(ref))]
    assert max(diffs) > 0  # the base model ran in bfloat16
    assert max(diffs) < 0.1  # the same weights, rounded to 8 significant bits
    other = run_json(*baco("--json", "--eager", "--dtype", "bfloat16", "--aligned-dtype", "float32",
                           rule="p", gamma=0.0, n=3))
    assert other == mixed


def test_baco_terminal_colour():
    """Base-model tokens are cyan on a terminal (--color auto), or always / never when asked."""
    plain = run(*baco(rule="p", gamma=1.0, n=2)).stdout  # piped: --color auto is off
    assert b"\033[" not in plain and plain.count(b"--- sample ") == 2
    # γ = 1 with rule p: every rule decision (max P_b < 1) goes to the base model.
    out = run_json(*baco("--json", rule="p", gamma=1.0, n=2))
    assert out["summary"]["base_tokens"] > 0
    coloured = run(*baco("--color", "always", rule="p", gamma=1.0, n=2)).stdout
    assert coloured.count(b"\033[36m") == out["summary"]["base_tokens"] + 1  # + the legend
    stripped = re.sub(rb"\033\[(36|0)m", b"", coloured).replace(b" (base tokens in cyan)", b"")
    assert stripped == plain
    assert run(*baco("--color", "never", rule="p", gamma=1.0, n=2)).stdout == plain


# ------------------------------------------------------------------------------------ bad input

BAD = [
    (["logits", "--model", "/nonexistent/model", "--ids", "1,2"], "does not exist"),
    (["logits", "--model", os.path.join(TINY, "llama_gqa"), "--ids", "1,x"], "--ids"),
    (["logits", "--model", os.path.join(TINY, "llama_gqa"), "--ids", "1,99999"], "vocabulary"),
    (["logits", "--model", os.path.join(TINY, "llama_gqa"), "--ids", "1", "--dtype", "int8"], "--dtype"),
    (["logits", "--model", os.path.join(TINY, "llama_gqa"), "--ids", "1", "--device", "bogus"], "--device"),
    (["logits", "--model", os.path.join(TINY, "llama_gqa")], "--ids"),
    (["generate", "--model", "/nonexistent/model", "--prompt", "hi"], "does not exist"),
    (["generate", "--model", os.path.join(TINY, "llama_gqa"), "--prompt", "hi"], "no tokenizer"),
    (["generate", "--model", ALIGNED, "--prompt", "hi", "--max-tokens", "0"], "--max-tokens"),
    (["generate", "--model", ALIGNED, "--prompt", "hi", "--max-tokens", "many"], "--max-tokens"),
    (["tokenize", "--model", "/nonexistent/model", "--text", "x"], "does not exist"),
    (["chat-template", "--prompt", "hi"], "--model"),
    (["chat-template", "--template-file", "/nonexistent.jinja", "--prompt", "hi"], "/nonexistent.jinja"),
    (["eval", "--input", "/nonexistent.jsonl"], "/nonexistent.jsonl"),
    (["eval", "--input", NB_SCORES, "--metrics", "bogus"], "bogus"),
    (["eval", "--input", NB_SCORES, "--budget", "3"], "budget"),
    (["eval", "--input", NB_SCORES, "--equivalence", "bogus"], "bogus"),
    (["eval", "--input", os.path.join(NB, "curated.jsonl")], "generations"),
    (["pareto", "--input", "/nonexistent.json"], "/nonexistent.json"),
    (["pareto", "--input", NB_SCORES], "JSON"),
    (["sample", "--model", "/nonexistent/model", "--prompt", "hi"], "does not exist"),
    (["sample", "--model", ALIGNED, "--prompt", "hi", "--strategy", "three"], "three"),
    (["sample", "--model", ALIGNED, "--prompt", "hi", "--budget", "0"], "budget"),
    (["sample", "--model", ALIGNED, "--prompt", "hi", "--device", "bogus"], "--device"),
    (["baco", "--base", "/nonexistent/model", "--aligned", ALIGNED, "--prompt", "hi", "--gamma", "0.3"],
     "does not exist"),
    (["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", "hi"], "--gamma"),
    (["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", "hi", "--rule", "bogus"], "bogus"),
    (["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", "hi", "--gamma", "abc"], "--gamma"),
    (["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", "hi", "--gamma", "0.3", "--base-template", "{oops}"],
     "oops"),
    (["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", "hi", "--gamma", "0.3", "--n", "0"], "num_samples"),
    (["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", "hi", "--gamma", "0.3", "--device", "cuda:x"],
     "--device"),
    (["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", "hi", "--gamma", "0.3", "--base-device", "gpu"],
     "--base-device"),
    (["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", "hi", "--gamma", "0.3", "--aligned-dtype", "int8"],
     "--aligned-dtype"),
    (["baco", "--base", BASE, "--aligned", ALIGNED, "--prompt", "hi", "--gamma", "0.3", "--color", "pink"],
     "--color"),
    (["bogus"], "subcommand"),
    (["eval", "--input", NB_SCORES, "--no-such-option"], "--no-such-option"),
    ([], "subcommand"),
]


@pytest.mark.parametrize("args,needle", BAD, ids=[" ".join(a[:1] + a[-2:]) for a, _ in BAD])
def test_bad_input_one_line_error(args, needle):
    line = one_line_error(run(*args, check=False))
    assert needle in line, line
