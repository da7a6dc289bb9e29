"""Token classes of real vocabularies, computed independently in Python.

Usage: token_classes_fixture.py OUTDIR  -> OUTDIR/token_classes.json

For each real tokenizer on disk (Qwen3, Llama-3.1, Llama-2 in ../shared, SmolLM2's GGUF vocabulary),
every id's text is rebuilt from the vocabulary itself (the GPT-2 byte map for byte-level BPE, '▁' and
<0xHH> pieces for SentencePiece-style vocabularies, added tokens as written), and classified with
Python's unicodedata and str.isspace() by the definitions of docs/token-classes.md:

  is_punctuation: special, or the text without whitespace is empty or only P*/S* characters
  starts_word:    is_punctuation, or the text begins with whitespace or '▁'
  ends_word:      is_punctuation, or the text ends with whitespace or a P*/S* character
  function word:  the lowercased run of L*/M*/N* characters after leading whitespace/'▁' is in the list

Bytes that are not valid UTF-8 (half characters) are decoded with surrogateescape, so they count as
neither whitespace, punctuation nor letters. Ids whose text has a character unassigned in this
Python's Unicode database are listed as `uncertain` (the C++ side may use a newer Unicode version).
"""
import json
import os
import sys
import unicodedata

from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


def shared_dir():
    return os.environ.get("BREADTH_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared"))


def models_dir():
    return os.environ.get("BREADTH_MODELS_DIR", os.path.expanduser("~/.cache/breadth/models"))


def function_words():
    src = os.environ.get("BREADTH_SOURCE_DIR", os.path.join(HERE, "..", ".."))
    with open(os.path.join(src, "lib", "tokenizer", "function_words.inc"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    return {l.strip() for l in lines[1:-1] if l.strip() and not l.startswith("#")}


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


BYTE_DECODER = bytes_to_unicode()


def classify(data, special, words):
    if special:
        return 1, 1, 1, 0, False
    text = data.decode("utf-8", errors="surrogateescape")
    uncertain = any(unicodedata.category(c) == "Cn" for c in text)

    def ps(c):
        return unicodedata.category(c)[0] in "PS"

    punct = all(c.isspace() or ps(c) for c in text)
    starts = punct or (len(text) > 0 and (text[0].isspace() or text[0] == "▁"))
    ends = punct or (len(text) > 0 and (text[-1].isspace() or ps(text[-1])))
    i = 0
    while i < len(text) and (text[i].isspace() or text[i] == "▁"):
        i += 1
    j = i
    while j < len(text) and unicodedata.category(text[j])[0] in "LMN":
        j += 1
    word = text[i:j].lower()
    return int(punct), int(starts), int(ends), int(word in words), uncertain


def hf_tokenizer(path):
    tok = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
    with open(os.path.join(path, "tokenizer.json"), encoding="utf-8") as f:
        spec = json.load(f)
    decoder = json.dumps(spec.get("decoder"))
    byte_level = "ByteLevel" in decoder
    added = tok.get_added_tokens_decoder()
    n = max(list(tok.get_vocab(with_added_tokens=True).values())) + 1
    out = []
    for i in range(n):
        if i in added:
            out.append((added[i].content.encode("utf-8"), bool(added[i].special)))
            continue
        piece = tok.id_to_token(i)
        if piece is None:
            out.append((None, False))
        elif byte_level:
            out.append((bytes(BYTE_DECODER[c] for c in piece), False))
        elif len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
            out.append((bytes([int(piece[3:5], 16)]), False))
        else:
            out.append((piece.replace("▁", " ").encode("utf-8"), False))
    return out


def gguf_tokenizer(path):
    from gguf import GGUFReader
    r = GGUFReader(path)
    toks = r.fields["tokenizer.ggml.tokens"]
    types = r.fields["tokenizer.ggml.token_type"]
    model = bytes(r.fields["tokenizer.ggml.model"].parts[r.fields["tokenizer.ggml.model"].data[0]]).decode()
    assert model == "gpt2", model
    out = []
    for k, idx in enumerate(toks.data):
        piece = bytes(toks.parts[idx]).decode("utf-8")
        ttype = int(types.parts[types.data[k]][0])
        if ttype == 1:  # normal: byte-level text
            out.append((bytes(BYTE_DECODER[c] for c in piece), False))
        else:  # control (3) and user-defined (4) tokens are written as they are
            out.append((piece.encode("utf-8"), ttype == 3))
    return out


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    words = function_words()
    sources = {}
    # Every vocabulary is required (test_token_classes checks each name is there): a missing one is an
    # error saying how to get it; only SmolLM2's GGUF (setup's download) may be left out, and only under
    # BREADTH_ALLOW_MISSING_MODELS=1.
    for fam in ("qwen3", "llama3_1", "llama2"):
        p = os.path.join(shared_dir(), "data", "tokenizers", fam)
        if not os.path.exists(os.path.join(p, "tokenizer.json")):
            sys.exit(f"{p}/tokenizer.json is missing: the test data lives in ../shared (BREADTH_SHARED_DIR)")
        sources[fam] = (p, hf_tokenizer(p))
    g = os.path.join(models_dir(), "smollm2-135m-instruct.gguf")
    if os.path.exists(g):
        sources["smollm2-gguf"] = (g, gguf_tokenizer(g))
    elif os.environ.get("BREADTH_ALLOW_MISSING_MODELS") != "1":
        sys.exit(f"{g} is missing: run `make setup` (scripts/setup.sh) to download it "
                 "(or set BREADTH_ALLOW_MISSING_MODELS=1 to leave it out)")
    result = {}
    for name, (path, vocab) in sources.items():
        entry = {"path": path, "n": len(vocab), "hole": [], "uncertain": [], "special": [], "bytes": [],
                 "is_punctuation": [], "starts_word": [], "ends_word": [], "is_function_word": []}
        for i, (data, special) in enumerate(vocab):
            if data is None:
                entry["hole"].append(i)
                data = b""
            p, s, e, fw, unc = classify(data, special, words)
            if unc:
                entry["uncertain"].append(i)
            entry["special"].append(int(special))
            entry["bytes"].append(data.hex())
            entry["is_punctuation"].append(p)
            entry["starts_word"].append(s)
            entry["ends_word"].append(e)
            entry["is_function_word"].append(fw)
        result[name] = entry
        print(f"{name}: {len(vocab)} ids, {sum(entry['is_punctuation'])} punctuation/formatting, "
              f"{sum(entry['is_function_word'])} function words, {len(entry['uncertain'])} uncertain")
    with open(os.path.join(outdir, "token_classes.json"), "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
