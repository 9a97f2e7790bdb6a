"""Multi-task bilingual embeddings (Wang, Peng & Duh 2017), their Table 3 on our data.

Reads the spaces ``benchmarks/multitask_bwe.py --spaces DIR`` wrote (``DIR/<language>-d<d>-<regime>-
seed<seed>/``). For every entity word of the target dev set (a word mostly inside entities, such as
"madrid" but not "de"; its type the majority type of its entity occurrences) that has a row in the
space (lowercased, digits as 0), finds its ``k`` cosine-nearest
English words among all English rows of the space, each typed by its majority label in English
CoNLL-2003 train (``O`` when it is mostly outside entities; words not in train are ``O`` too), and
reports the share of neighbours of the word's own type, per type and over all words, with how many
dev entity words have a row. It also keeps the nearest English words of the ``--show`` most
frequent dev entity words of each type. One record per space is appended to
``benchmarks/results/multitask_neighbours.jsonl``.

    OMP_NUM_THREADS=1 python benchmarks/multitask_neighbours.py --spaces runs/multitask/spaces \\
        --languages es de --dims 64 --regimes baseline fj hfj --seeds 13 42 7
"""
import argparse
import os
import sys
from typing import Any, Dict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.records import Recorder, results_path  # noqa: E402
from xlner_allennlp.alignment import load_vectors  # noqa: E402
from xlner_allennlp.alignment.retrieval import knn  # noqa: E402
from xlner_allennlp.analysis import entity_words, majority_types, neighbour_type_shares  # noqa: E402
from xlner_allennlp.data_layout import data_root, encoding, languages, path as data_path  # noqa: E402
from xlner_allennlp.multitask import REGIMES, normalize_word  # noqa: E402

TARGETS = [language for language in languages() if language != "en"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", required=True, help="the --spaces directory of benchmarks/multitask_bwe.py")
    parser.add_argument("--languages", nargs="+", default=["es", "de"], choices=TARGETS)
    parser.add_argument("--dims", nargs="+", type=int, default=[64])
    parser.add_argument("--regimes", nargs="+", default=list(REGIMES), choices=REGIMES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 42, 7])
    parser.add_argument("--variant", default="", help="the spaces' directory suffix (multitask_bwe.py's space_variant, "
                        "e.g. --variant=-pretrain10000)")
    parser.add_argument("--k", type=int, default=10, help="English neighbours per target word")
    parser.add_argument("--show", type=int, default=3, help="dev entity words per type whose neighbours are kept")
    parser.add_argument("--data", default=data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--output", default=results_path("multitask_neighbours"), help="records file (appended to)")
    return parser.parse_args()


def measure(space: str, language: str, english_types: Dict[str, str], args: argparse.Namespace) -> Dict[str, Any]:
    english = load_vectors(os.path.join(space, "en.npy"))
    target = load_vectors(os.path.join(space, f"{language}.npy"))
    dev_path, dev_encoding = data_path(language, "dev", args.data), encoding(language, "dev")
    dev = entity_words(dev_path, language, per_type=10**9, encoding=dev_encoding)
    outside = {word for word, label in majority_types(dev_path, dev_encoding).items() if label == "O"}
    rows = [(word, entity_type, target.index[normalize_word(word)]) for word, entity_type in zip(dev.words, dev.types)
            if word not in outside and normalize_word(word) in target.index]
    if not rows:
        raise ValueError(f"{space}: no {language} dev entity word has a row in the space")
    words, types, indices = zip(*rows)
    vectors = target.matrix[list(indices)]
    neighbour_types = [english_types.get(word, "O") for word in english.words]
    shares = neighbour_type_shares(vectors, types, english.matrix, neighbour_types, args.k)
    shown: Dict[str, Dict[str, Any]] = {}
    for entity_type in sorted(set(types)):
        picked = [i for i, t in enumerate(types) if t == entity_type][: args.show]  # most frequent first
        _, nearest = knn(vectors[picked], english.matrix, args.k)
        for i, neighbours in zip(picked, nearest):
            shown[words[i]] = {"type": entity_type, "neighbours": [english.words[j] for j in neighbours],
                               "neighbour_types": [neighbour_types[j] for j in neighbours]}
    return {
        "shares": shares,
        "dev_entity_words": sum(1 for word in dev.words if word not in outside),
        "dev_entity_words_with_a_row": len(words),
        "per_type_with_a_row": {t: int(sum(1 for x in types if x == t)) for t in sorted(set(types))},
        "shown": shown,
    }


def main() -> None:
    args = parse_args()
    recorder = Recorder("multitask_neighbours", vars(args), args.output)
    english_types = majority_types(data_path("en", "train", args.data), encoding("en", "train"))
    print("| language | d | regime | seed | " + " | ".join(("PER", "LOC", "ORG", "MISC", "all")) + " | dev entity words with a row |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for language in args.languages:
        for dim in args.dims:
            for regime in args.regimes:
                for seed in args.seeds:
                    space = os.path.join(args.spaces, f"{language}-d{dim}-{regime}-seed{seed}{args.variant}")
                    if not os.path.isdir(space):
                        print(f"(no space {space}: skipped)")
                        continue
                    numbers = measure(space, language, english_types, args)
                    key = {"language": language, "dim": dim, "regime": regime, "seed": seed, "k": args.k}
                    if args.variant:
                        key["variant"] = args.variant
                    recorder.record(key, numbers)
                    cells = [f"{100 * numbers['shares'].get(t, float('nan')):.1f}" for t in ("PER", "LOC", "ORG", "MISC", "all")]
                    print(f"| {language} | {dim} | {regime} | {seed} | " + " | ".join(cells)
                          + f" | {numbers['dev_entity_words_with_a_row']} of {numbers['dev_entity_words']} |", flush=True)


if __name__ == "__main__":
    main()
