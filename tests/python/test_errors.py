"""C++ errors arrive as breadth.Error subclasses that keep the error class and its ErrorCode.

`code` equals the C API's breadth_status for the same failure (BREADTH_ERR_* in capi/breadth.h), and
the classes stay catchable as before: InvalidArgumentError is a ValueError, every class a
RuntimeError.
"""

import json
import os

import pytest

import breadth

# ErrorCode / breadth_status values (include/breadth/error.hpp, capi/breadth.h).
CODES = {
    "InvalidArgumentError": 1,
    "IoError": 2,
    "FormatError": 3,
    "UnsupportedError": 4,
    "NumericError": 5,
    "CancelledError": 6,
    "InternalError": 7,
}


def raised(excinfo, name):
    cls = getattr(breadth, name)
    assert type(excinfo.value) is cls, f"{type(excinfo.value).__name__} raised, {name} expected"
    assert excinfo.value.code == CODES[name]
    assert isinstance(excinfo.value, breadth.Error) and isinstance(excinfo.value, RuntimeError)


def test_classes_and_codes():
    assert issubclass(breadth.Error, RuntimeError)
    for name, code in CODES.items():
        cls = getattr(breadth, name)
        assert issubclass(cls, breadth.Error), name
        assert cls.code == code, name
    assert issubclass(breadth.InvalidArgumentError, ValueError)
    assert not any(issubclass(getattr(breadth, n), ValueError) for n in CODES if n != "InvalidArgumentError")


def test_invalid_argument():
    with pytest.raises(ValueError, match="unknown equivalence") as e:
        breadth.DivCov("nope")
    raised(e, "InvalidArgumentError")
    with pytest.raises(ValueError, match="partition") as e:
        breadth.DivCov.from_partition([0, 1], [1], max_unique_sum=2)  # sizes differ
    raised(e, "InvalidArgumentError")


def test_io_error():
    with pytest.raises(RuntimeError, match="/nonexistent/model") as e:
        breadth.Model("/nonexistent/model")
    raised(e, "IoError")


def test_format_error(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00 truncated")
    with pytest.raises(breadth.Error) as e:
        breadth.Model(str(bad))
    raised(e, "FormatError")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model")
    with pytest.raises(breadth.Error, match="GGUF") as e:
        breadth.Model(str(junk))
    raised(e, "FormatError")


def test_unsupported_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["NoSuchForCausalLM"]}))
    with pytest.raises(breadth.Error, match="NoSuchForCausalLM") as e:
        breadth.Model(str(tmp_path))
    raised(e, "UnsupportedError")


def test_cancelled_error(aligned):
    with pytest.raises(breadth.Error, match="cancel") as e:
        breadth.Sampler().generate(aligned, "Hi", n=2, max_new_tokens=8, progress=lambda done, total, label: False)
    raised(e, "CancelledError")
    assert e.value.code == breadth.CancelledError.code


def test_python_exceptions_in_callbacks_stay_themselves(aligned):
    # A callback's own exception is not wrapped in a breadth class.
    def boom(row, token, piece):
        raise KeyError("from the callback")

    with pytest.raises(KeyError):
        breadth.Sampler().generate(aligned, "Hi", n=1, max_new_tokens=2, on_token=boom)
