import pytest
from allennlp.common.checks import ConfigurationError

from xlner_allennlp.language_vectors import SPEC_KEYS, checked_language_spec, lookup_row


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"alignment": "x"}, "the entry of language 'nl' needs a \"vectors\" path"),
        ({"vectors": "nl.npy", "alignement": "x"}, r"unknown key\(s\) \['alignement'\]"),
        ({"vectors": "nl.npy", "max_vocab": 0}, "max_vocab must be a positive integer"),
        ({"vectors": "nl.npy", "side": "source"}, "\"side\" is given but no \"alignment\""),
        ({"vectors": "nl.npy", "alignment": "x", "side": "left"}, "side must be .* got 'left'"),
    ],
)
def test_bad_settings_name_the_component_and_the_language(spec, message):
    with pytest.raises(ConfigurationError, match=message) as error:
        checked_language_spec("nl", spec, "component_x")
    assert "component_x" in str(error.value) and "'nl'" in str(error.value)


def test_good_settings_are_copied():
    spec = {key: value for key, value in zip(SPEC_KEYS, ["nl.npy", "al/nl-en", None, 5])}
    checked = checked_language_spec("nl", spec, "component_x")
    assert checked == spec and checked is not spec


def test_lookup_policy():
    index = {"the": 0, "Paris": 1, "00": 2}
    assert [lookup_row(word, index) for word in ("The", "Paris", "42", "rome")] == [0, 1, 2, None]
