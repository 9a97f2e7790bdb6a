"""A tiny data directory with the data layout (``xlner_allennlp/data_layout.json``), generated for tests.

Sentences are built from small name lists so that a model can fit them in an epoch or two. Target
language words are word-by-word translations of the English ones and their vectors are an exact
rotation of their English counterparts, so the correct alignment artifact (that rotation) is known.
"""
import gzip
import json
import os
import random
from typing import Dict, List, Tuple

import numpy as np

from xlner_allennlp.alignment import Alignment, Normalization, WordVectors, save_alignment, write_vectors
from xlner_allennlp.data_layout import dictionary, encoding, path, treebank, treebank_language, treebanks

DIM = 300
Sentence = List[Tuple[str, str]]

_EN = {
    "persons": [["John", "Smith"], ["Mary"], ["Peter", "Blackburn"]],
    "places": [["London"], ["Paris"], ["New", "York"]],
    "orgs": [["Reuters"], ["European", "Commission"]],
    "frame": [("{PER}", "said"), ("in", "{LOC}"), ("to", "{ORG}"), ("today", ".")],
}
# Word-by-word "translations" for the target languages; names stay the same.
_TRANSLATIONS = {
    "es": {"said": "dijo", "in": "en", "to": "a", "today": "hoy", ".": "."},
    "nl": {"said": "zei", "in": "in", "to": "aan", "today": "vandaag", ".": "."},
    "de": {"said": "sagte", "in": "in", "to": "an", "today": "heute", ".": "."},
    "fr": {"said": "dit", "in": "à", "to": "à", "today": "aujourd'hui", ".": "."},
}


def _sentence(rng: random.Random, translate: Dict[str, str]) -> Sentence:
    person, place, org = rng.choice(_EN["persons"]), rng.choice(_EN["places"]), rng.choice(_EN["orgs"])
    tagged: Sentence = []
    for name, tag in ((person, "PER"), (None, "said"), (None, "in"), (place, "LOC"),
                      (None, "to"), (org, "ORG"), (None, "today"), (None, ".")):
        if name is None:
            tagged.append((translate.get(tag, tag), "O"))
        else:
            tagged.extend((word, ("B-" if i == 0 else "I-") + tag) for i, word in enumerate(name))
    return tagged


def sentences(language: str, count: int, seed: int) -> List[Sentence]:
    """``count`` IOB2-tagged sentences of ``language`` (``en`` or a key of the translations)."""
    rng = random.Random(seed)
    translate = {} if language == "en" else _TRANSLATIONS[language]
    return [_sentence(rng, translate) for _ in range(count)]


def _to_iob1(tags: List[str]) -> List[str]:
    """IOB2 to IOB1: ``B-`` only where an entity directly follows one of the same type."""
    out = []
    for i, tag in enumerate(tags):
        if tag.startswith("B-") and not (i > 0 and tags[i - 1] != "O" and tags[i - 1][2:] == tag[2:]):
            tag = "I-" + tag[2:]
        out.append(tag)
    return out


def _write(path: str, text: str, encoding: str = "utf-8") -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding=encoding) as handle:
        handle.write(text)


def _conll(sents: List[Sentence], columns: int, iob1: bool, docstart: bool) -> str:
    lines = ["-DOCSTART- " + " ".join(["-X-"] * (columns - 2)) + " O", ""] if docstart else []
    for sent in sents:
        words = [w for w, _ in sent]
        tags = _to_iob1([t for _, t in sent]) if iob1 else [t for _, t in sent]
        lines.extend(" ".join([w] + ["X"] * (columns - 2) + [t]) for w, t in zip(words, tags))
        lines.append("")
    return "\n".join(lines) + "\n"


def _tsv(sents: List[Sentence]) -> str:
    blocks = ["\n".join(f"{i}\t{w}\t{t}" for i, (w, t) in enumerate(sent)) for sent in sents]
    return "\n\n".join(blocks) + "\n"


def _tokens(sents: List[Sentence]) -> str:
    return "\n\n".join("\n".join(w for w, _ in sent) for sent in sents) + "\n"


def write_pairs(path: str, language: str, documents: int, seed: int) -> None:
    """A comparable corpus: ``documents`` pairs of 5 English sentences and their translations."""
    rng = random.Random(seed)
    lines = []
    for d in range(documents):
        english = [_sentence(rng, {}) for _ in range(5)]
        translated = [[(_TRANSLATIONS[language].get(w, w), t) for w, t in sent] for sent in english]
        lines.append(json.dumps({
            "id": f"tiny:{d}",
            "en": " ".join(w for sent in english for w, _ in sent),
            language: " ".join(w for sent in translated for w, _ in sent),
        }))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def _rotation(seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((DIM, DIM)))
    return q.astype(np.float32)


def make_tiny_data(root: str) -> Dict[str, str]:
    """Write the tiny data directory under ``root``; returns the configs' machine paths (environment)."""
    en_train, en_dev = sentences("en", 24, 1), sentences("en", 8, 2)
    _write(path("en", "train", root), _conll(en_train, 4, iob1=True, docstart=True))
    _write(path("en", "dev", root), _conll(en_dev, 4, iob1=True, docstart=True))
    _write(path("es", "dev", root), _conll(sentences("es", 8, 3), 3, iob1=False, docstart=False))
    _write(path("nl", "dev", root), _conll(sentences("nl", 8, 5), 3, iob1=False, docstart=True))
    _write(path("de", "dev", root), _conll(sentences("de", 8, 7), 5, iob1=True, docstart=True),
           encoding=encoding("de", "dev"))
    _write(path("fr", "dev", root), _tsv(sentences("fr", 8, 9)))
    for k, language in enumerate(["es", "nl", "de", "fr"]):
        _write(path(language, "unlabelled", root), _tokens(sentences(language, 16, 4 + 2 * k)),
               encoding=encoding(language, "unlabelled"))

    for k, language in enumerate(sorted(_TRANSLATIONS)):
        write_pairs(f"{root}/comparable/en-{language}.pairs.jsonl.gz", language, documents=6, seed=20 + k)
    write_tiny_treebanks(root)

    rng = np.random.default_rng(0)
    en_words = sorted({w.lower() for s in en_train + en_dev for w, _ in s} | {"the", "of"})
    en_matrix = rng.standard_normal((len(en_words), DIM)).astype(np.float32)
    write_vectors(WordVectors(en_words, en_matrix), path("en", "vectors", root))
    en_index = {w: i for i, w in enumerate(en_words)}
    for k, (language, translate) in enumerate(sorted(_TRANSLATIONS.items())):
        rotation = _rotation(100 + k)
        back = {v: w for w, v in translate.items()}
        words = sorted({translate.get(w, w) for w in en_words})
        matrix = np.stack([en_matrix[en_index[back.get(w, w)]] for w in words]) @ rotation.T
        write_vectors(WordVectors(words, matrix), path(language, "vectors", root))
        _write(dictionary(language, "en", "train", root),
               "".join(f"{w} {back.get(w, w)}\n" for w in words))
        unit = Normalization.fit(matrix, "unit")
        save_alignment(
            Alignment(rotation, unit, Normalization.fit(en_matrix, "unit"), language, "en", "procrustes"),
            f"{root}/alignments/{language}-en",
        )
    return {"XLNER_DATA": root, "XLNER_ALIGNMENTS": f"{root}/alignments"}


# The tree of every tiny sentence, by the role of each word of `_sentence` (a name's first word is
# the name's head, its other words attach to it as `flat`). Positions are filled in by `_tree`.
_ROLES = {"PER": ("said", "nsubj", "PROPN"), "said": (None, "root", "VERB"), "in": ("LOC", "case", "ADP"),
          "LOC": ("said", "obl", "PROPN"), "to": ("ORG", "case", "ADP"), "ORG": ("said", "obl", "PROPN"),
          "today": ("said", "obl:tmod", "NOUN"), ".": ("said", "punct", "PUNCT")}


def _tree(sent: Sentence) -> List[Tuple[str, str, int, str]]:
    """(word, UPOS, head, relation) of each word of a tiny NER sentence."""
    first: Dict[str, int] = {}
    roles = [tag[2:] if tag != "O" else None for _, tag in sent]
    # Words tagged O are, in order: said, in, to, today, . (see `_sentence`).
    plain = iter(["said", "in", "to", "today", "."])
    keys = []
    for (word, tag), role in zip(sent, roles):
        if role is None:
            keys.append(next(plain))
        else:
            keys.append(role if tag.startswith("B-") else "flat:" + role)
    for position, key in enumerate(keys, start=1):
        if not key.startswith("flat:"):
            first.setdefault(key, position)
    rows = []
    for (word, _), key in zip(sent, keys):
        if key.startswith("flat:"):
            rows.append((word, "PROPN", first[key[5:]], "flat"))
            continue
        head, relation, upos = _ROLES[key]
        rows.append((word, upos, 0 if head is None else first[head], relation))
    return rows


def tiny_conllu(sents: List[Sentence]) -> str:
    """CoNLL-U text of tiny sentences (with a comment line per sentence)."""
    blocks = []
    for number, sent in enumerate(sents, start=1):
        lines = [f"# sent_id = {number}"]
        for position, (word, upos, head, relation) in enumerate(_tree(sent), start=1):
            lines.append(f"{position}\t{word}\t_\t{upos}\t_\t_\t{head}\t{relation}\t_\t_")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n\n"


# The sentences and seed of each tiny UD file, by treebank and split (written at the data layout's paths).
TINY_TREEBANKS = {
    "en_ewt": {"train": (24, 11), "dev": (8, 12)},
    "es_gsd": {"dev": (6, 13)},
    "es_ancora": {"dev": (6, 14)},
    "fr_gsd": {"dev": (6, 15)},
    "de_gsd": {"dev": (6, 16)},
    "nl_alpino": {"dev": (6, 17)},
    "nl_lassysmall": {"dev": (6, 18)},
}


def write_tiny_treebanks(root: str) -> None:
    """Write a tiny CoNLL-U file under ``root`` for every file of the layout's UD treebanks."""
    for name in treebanks():
        for split, (count, seed) in TINY_TREEBANKS[name].items():
            _write(treebank(name, split, root), tiny_conllu(sentences(treebank_language(name), count, seed)))
