"""A tiny ``text/`` data directory with the layout of ``../shared/data/text`` (one tokenized sentence
per line, gzipped), generated for the language-model tests."""
import gzip
import os
import random
from typing import Dict, Sequence

_WORDS = "the a cat dog bird sat ran flew on in over the mat park tree . big small red Größe".split()


def write_tiny_text(root: str, languages: Sequence[str] = ("en",), train: int = 120, heldout: int = 20) -> Dict[str, str]:
    """Write ``root/text/{lang}.{train,heldout}.txt.gz`` for each language and return the
    environment pointing ``training_config/bilm.jsonnet`` at ``root`` and the first language
    (``XLNER_DATA``, ``XLNER_LANGUAGE``)."""
    os.makedirs(os.path.join(root, "text"), exist_ok=True)
    for language in languages:
        rng = random.Random(language)
        for split, count in (("train", train), ("heldout", heldout)):
            lines = (" ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 12))) for _ in range(count))
            with gzip.open(os.path.join(root, "text", f"{language}.{split}.txt.gz"), "wt", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
    return {"XLNER_DATA": root, "XLNER_LANGUAGE": languages[0]}
