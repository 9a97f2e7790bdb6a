"""Shared fixtures: a tiny generated data directory with the data layout."""
import os

import pytest

import xlner_allennlp.plugin  # noqa: F401  registers every component, as --include-package does
from tests.tiny_data import make_tiny_data
from xlner_allennlp.data_layout import data_root

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The real data as the package resolves it ($XLNER_DATA, else the layout's default), from the project root.
REAL_DATA = os.path.join(PROJECT_ROOT, data_root())


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> dict:
    """Environment variables pointing the configs at a freshly generated tiny data directory."""
    return make_tiny_data(str(tmp_path_factory.mktemp("tiny_data")))


def real_data_or_skip(*relative: str) -> str:
    """The real data directory, or skip the test when it (or a needed file in it) is absent."""
    for name in relative or ("",):
        if not os.path.exists(os.path.join(REAL_DATA, name)):
            pytest.skip(f"real data not found at {os.path.join(REAL_DATA, name)} (set XLNER_DATA)")
    return REAL_DATA


@pytest.fixture(autouse=True)
def no_vector_cache(monkeypatch):
    """No test writes a cache of parsed vector text (next to shared data or in the user's cache
    directory); the cache's own tests pass their ``TextLoading`` explicitly."""
    monkeypatch.setenv("XLNER_VECTOR_CACHE", "off")
