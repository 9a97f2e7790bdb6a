"""Where each file of the data directory lives: the one home of the data layout and its default root.

The layout is ``data_layout.json`` beside this module; the training configs import the same file
(``training_config/common.libsonnet``), the Makefile asks this module (``python -m
xlner_allennlp.data_layout dev fr``), and benchmarks and tests call :func:`path`. Per language it
names, relative to the data root:

* ``train``, ``dev``, ``test``: labelled NER files (English has all three; the targets a dev set);
* ``encoding``: the encoding of those labelled files (German CoNLL-2003 is latin-1);
* ``unlabelled`` and ``unlabelled_encoding``: the target text for self-training (tokens only,
  disjoint from the dev set);
* ``vectors``: the fastText vector file (``.npy`` beside its ``.vocab``);
* ``lm_train``, ``lm_heldout``: raw text for the language models (UTF-8, gzipped, one tokenized
  sentence per line; the heldout text for perplexity);
* ``dictionaries``: MUSE bilingual dictionaries to another language, ``train`` and ``test`` splits.

and per UD treebank (``treebanks``, keyed by name such as ``en_ewt``) its ``language`` and its
``train`` and/or ``dev`` CoNLL-U files (the parser configs, ``training_config/parser.libsonnet``,
import them too).

The root is the ``--data`` argument, else ``$XLNER_DATA``, else the layout's ``default_root``
(relative to the working directory: the project root in the README's commands).

    python -m xlner_allennlp.data_layout dev fr                 # <root>/ner/fr/wikineural/dev.tsv
    python -m xlner_allennlp.data_layout encoding de            # latin-1
    python -m xlner_allennlp.data_layout dictionary es en test  # <root>/dict/muse/es-en.5000-6500.txt
    python -m xlner_allennlp.data_layout treebank nl_alpino     # <root>/ud/nl/nl_alpino-ud-dev.conllu
"""
import argparse
import functools
import json
import os
import sys
from typing import Any, Dict, List, Optional

LAYOUT_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data_layout.json")
DATA_VARIABLE = "XLNER_DATA"
LM_TEXT_FILES = ("lm_train", "lm_heldout")
FILES = ("train", "dev", "test", "unlabelled", "vectors") + LM_TEXT_FILES
DICTIONARY_SPLITS = ("train", "test")
TREEBANK_SPLITS = ("train", "dev")


class DataLayoutError(ValueError):
    """A language, file, dictionary or treebank that the data layout does not have."""


@functools.lru_cache(maxsize=None)
def _layout() -> Dict[str, Any]:
    with open(LAYOUT_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def data_root(data: Optional[str] = None) -> str:
    """The data directory: ``data`` if given, else ``$XLNER_DATA``, else the layout's default."""
    return data or os.environ.get(DATA_VARIABLE) or _layout()["default_root"]


def languages() -> List[str]:
    """The languages the layout describes."""
    return list(_layout()["languages"])


def _lookup(section: str, name: str, kind: str) -> Dict[str, Any]:
    """The layout's entry ``name`` of ``section`` (``languages`` or ``treebanks``); an unknown name is
    a :class:`DataLayoutError` listing the known ones."""
    entries = _layout()[section]
    if name not in entries:
        raise DataLayoutError(f"unknown {kind} {name!r} in the data layout {LAYOUT_FILE} "
                              f"(known: {', '.join(entries)})")
    return entries[name]


def _entry(language: str) -> Dict[str, Any]:
    return _lookup("languages", language, "language")


def path(language: str, name: str, data: Optional[str] = None) -> str:
    """The path of ``language``'s file ``name`` (one of :data:`FILES`) under the data root."""
    if name not in FILES:
        raise DataLayoutError(f"unknown data file {name!r} (known: {', '.join(FILES)})")
    entry = _entry(language)
    if name not in entry:
        have = ", ".join(f for f in FILES if f in entry)
        raise DataLayoutError(f"the data layout has no {name!r} file for {language!r} (it has: {have})")
    return os.path.join(data_root(data), entry[name])


def encoding(language: str, name: str = "dev") -> str:
    """The text encoding of ``language``'s file ``name``: a labelled file, ``unlabelled``, or the
    language-model text (always UTF-8)."""
    path(language, name)  # the file must exist in the layout
    if name in LM_TEXT_FILES:
        return "utf-8"
    return _entry(language)["unlabelled_encoding" if name == "unlabelled" else "encoding"]


def dictionary(language: str, other: str, split: str = "train", data: Optional[str] = None) -> str:
    """The path of the MUSE dictionary from ``language`` to ``other`` (split ``train`` or ``test``)."""
    if split not in DICTIONARY_SPLITS:
        raise DataLayoutError(f"unknown dictionary split {split!r} (known: {', '.join(DICTIONARY_SPLITS)})")
    splits = _entry(language).get("dictionaries", {}).get(other)
    if splits is None or split not in splits:
        raise DataLayoutError(f"the data layout has no {split!r} dictionary from {language!r} to {other!r}")
    return os.path.join(data_root(data), splits[split])


def treebanks() -> List[str]:
    """The names of the UD treebanks the layout describes (``en_ewt``, ``es_gsd``, ...)."""
    return list(_layout()["treebanks"])


def _treebank_entry(name: str) -> Dict[str, str]:
    return _lookup("treebanks", name, "treebank")


def treebank_language(name: str) -> str:
    """The language of the UD treebank ``name``."""
    return _treebank_entry(name)["language"]


def treebank(name: str, split: str = "dev", data: Optional[str] = None) -> str:
    """The path of the CoNLL-U file ``split`` (``train`` or ``dev``) of the UD treebank ``name``."""
    if split not in TREEBANK_SPLITS:
        raise DataLayoutError(f"unknown treebank split {split!r} (known: {', '.join(TREEBANK_SPLITS)})")
    entry = _treebank_entry(name)
    if split not in entry:
        have = ", ".join(s for s in TREEBANK_SPLITS if s in entry)
        raise DataLayoutError(f"the data layout has no {split!r} file for the treebank {name!r} (it has: {have})")
    return os.path.join(data_root(data), entry[split])


def selection_overrides(language: str, data: Optional[str] = None) -> Dict[str, str]:
    """The config overrides (``-o``) that select an NER model on ``language``'s dev set instead of
    the English one (training_config/common.libsonnet's header shows the same for Spanish)."""
    return {
        "validation_data_path": path(language, "dev", data),
        "validation_dataset_reader.language": language,
        "validation_dataset_reader.encoding": encoding(language, "dev"),
    }


def treebank_selection_overrides(name: str, data: Optional[str] = None) -> Dict[str, str]:
    """The config overrides (``-o``) that select a parser on the dev set of the UD treebank
    ``name`` instead of English EWT's (training_config/parser.libsonnet's header shows them)."""
    return {
        "validation_data_path": treebank(name, "dev", data),
        "validation_dataset_reader.language": treebank_language(name),
    }


def main(argv: Optional[List[str]] = None) -> int:
    """Print one path (or encoding) of the layout; ``error: ...`` on stderr and status 1 if unknown."""
    parser = argparse.ArgumentParser(prog="python -m xlner_allennlp.data_layout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help=f"data root (default: ${DATA_VARIABLE}, else {_layout()['default_root']})")
    commands = parser.add_subparsers(dest="what", required=True)
    commands.add_parser("root", help="the data root")
    for name in FILES:
        commands.add_parser(name, help=f"a language's {name} file").add_argument("language")
    encoding_parser = commands.add_parser("encoding", help="the encoding of a language's file")
    encoding_parser.add_argument("language")
    encoding_parser.add_argument("file", nargs="?", default="dev", choices=[f for f in FILES if f != "vectors"])
    dictionary_parser = commands.add_parser("dictionary", help="a MUSE dictionary LANGUAGE-OTHER")
    dictionary_parser.add_argument("language")
    dictionary_parser.add_argument("other")
    dictionary_parser.add_argument("split", nargs="?", default="train", choices=DICTIONARY_SPLITS)
    treebank_parser = commands.add_parser("treebank", help="a UD treebank's CoNLL-U file")
    treebank_parser.add_argument("name")
    treebank_parser.add_argument("split", nargs="?", default="dev", choices=TREEBANK_SPLITS)
    args = parser.parse_args(argv)
    try:
        if args.what == "root":
            print(data_root(args.data))
        elif args.what == "encoding":
            print(encoding(args.language, args.file))
        elif args.what == "dictionary":
            print(dictionary(args.language, args.other, args.split, args.data))
        elif args.what == "treebank":
            print(treebank(args.name, args.split, args.data))
        else:
            print(path(args.language, args.what, args.data))
    except DataLayoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
