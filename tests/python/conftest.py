"""Shared fixtures: the tiny models of tests/capi/make_bindings_fixture.py and their references."""

import json
import os

import pytest

FIXTURE = os.path.join(os.environ.get("BREADTH_FIXTURES_DIR", "build/fixtures"), "bindings")
MODELS = os.environ.get("BREADTH_MODELS_DIR", os.path.expanduser("~/.cache/breadth/models"))


def missing(path, how):
    """A missing input fails the test with how to get it; it is a skip only under the explicit opt-out
    BREADTH_ALLOW_MISSING_MODELS=1 (for models only; CI never sets it)."""
    if os.environ.get("BREADTH_ALLOW_MISSING_MODELS") == "1":
        pytest.skip(f"{path} is missing (BREADTH_ALLOW_MISSING_MODELS=1): {how}")
    pytest.fail(f"{path} is missing: {how}", pytrace=False)


@pytest.fixture(scope="session")
def fx():
    # A generated fixture is never skipped: ctest makes it before this suite runs.
    if not os.path.exists(os.path.join(FIXTURE, "reference.json")):
        pytest.fail(f"fixture {FIXTURE} is missing: run the suite through ctest (fixture_bindings makes it)",
                    pytrace=False)
    return FIXTURE


@pytest.fixture(scope="session")
def ref(fx):
    with open(os.path.join(fx, "reference.json")) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def aligned(fx):
    import breadth

    return breadth.Model(os.path.join(fx, "aligned"))


@pytest.fixture(scope="session")
def base(fx):
    import breadth

    return breadth.Model(os.path.join(fx, "base"))


@pytest.fixture(scope="session")
def minilm():
    path = os.path.join(MODELS, "all-minilm-l6-v2")
    if not os.path.exists(os.path.join(path, "model.safetensors")):
        missing(os.path.join(path, "model.safetensors"), "run `make setup` (scripts/setup.sh) to download it")
    return path
