"""`breadth tokenize` against Hugging Face tokenizers: the printed JSON array equals
json.dumps(tokenizer.encode(text, add_special_tokens=...).ids).

usage: check_cli_tokenize.py <path to the breadth executable>
"""
import json
import os
import subprocess
import sys

from tokenizers import Tokenizer

cli = sys.argv[1]
shared = os.environ.get("BREADTH_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
texts = ["Hello world!", "  two  spaces\tand a tab\nand a newline", "日本語 😀 مرحبا", "<|im_start|>user hi<|im_end|>",
         "<s> and </s> inside", "I'm 12345 sure"]
failures = 0
for name in ("qwen3", "llama3_1", "llama2"):
    d = os.path.join(shared, "data", "tokenizers", name)
    ref = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    for text in texts:
        for add in (False, True):
            args = [cli, "tokenize", "--model", d, "--text", text] + (["--add-special"] if add else [])
            got = subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
            want = json.dumps(ref.encode(text, add_special_tokens=add).ids)
            if got != want:
                failures += 1
                print(f"{name} add_special={add} {text!r}: breadth {got} vs reference {want}")
bad = subprocess.run([cli, "tokenize", "--model", "/nonexistent/dir", "--text", "x"], capture_output=True, text=True)
if bad.returncode == 0 or "does not exist" not in bad.stderr:
    failures += 1
    print("a missing model path must fail with a clear message, got:", bad.returncode, bad.stderr)
print("failures:", failures)
sys.exit(1 if failures else 0)
