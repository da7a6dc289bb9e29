"""Shared fixtures: the tiny models of tests/capi/make_bindings_fixture.py and their references."""

import json
import os

import pytest

FIXTURE = os.path.join(os.environ.get("BREADTH_FIXTURES_DIR", "build/fixtures"), "bindings")
MODELS = os.environ.get("BREADTH_MODELS_DIR", os.path.expanduser("~/.cache/breadth/models"))


@pytest.fixture(scope="session")
def fx():
    if not os.path.exists(os.path.join(FIXTURE, "reference.json")):
        pytest.skip(f"fixture {FIXTURE} missing: run ctest (fixture_bindings) first")
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
        pytest.skip("all-MiniLM-L6-v2 is not in the setup cache")
    return path
