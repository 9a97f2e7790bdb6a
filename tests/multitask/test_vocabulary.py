import subprocess
import sys

import numpy as np

from xlner_allennlp.multitask import OOV, TaggedVocabulary, singleton_rows
from tests.conftest import PROJECT_ROOT


def test_blocks_are_frequency_sorted_with_min_count_and_extra_words():
    documents = [("en", "b a a c c c".split()), ("es", "a a".split())]
    vocabulary = TaggedVocabulary.build(documents, ["en", "es"], min_count=2, extra_words=[("en", "Zed"), ("en", "b")])
    assert vocabulary.entries == [("en", OOV), ("en", "c"), ("en", "a"), ("en", "b"), ("en", "zed"), ("es", OOV), ("es", "a")]
    assert vocabulary.counts.tolist() == [0, 3, 2, 1, 0, 0, 2]
    np.testing.assert_array_equal(vocabulary.encode(["A", "q"], "es"), [vocabulary.row("es", "a"), vocabulary.oov("es")])
    assert vocabulary.words("es") == (["a"], np.array([6]))


def test_singleton_rows_are_the_words_seen_once():
    vocabulary = TaggedVocabulary.build([("en", "x y z".split())], ["en"], min_count=1)
    rows = singleton_rows(vocabulary, [["x", "y"], ["X", "unknown"]], "en")
    assert rows == [vocabulary.row("en", "y")]


def test_the_core_imports_without_allennlp():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'allennlp' or name.startswith('allennlp.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import xlner_allennlp.multitask as m\n"
        "assert not any(n.startswith('allennlp') for n in sys.modules)\n"
        "print(m.MultitaskBweSettings().regime)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hfj"
