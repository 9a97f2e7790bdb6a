"""Frozen word embeddings of several languages mapped into one shared (aligned) space.

Each language's vectors are read from its vector file and, when it has an alignment artifact,
mapped once with the artifact's frozen normalization and mapping; otherwise they are only
normalized. Ids come from the ``xlner_aligned_word`` indexer (0 padding, 1 OOV, r + 2 row r).
"""
import logging
import time
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Union

import numpy as np
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.modules.token_embedders.token_embedder import TokenEmbedder

from xlner_allennlp.alignment.artifact import ArtifactError, load_alignment
from xlner_allennlp.alignment.normalization import Normalization, parse_steps
from xlner_allennlp.alignment.vectors import VectorFileError, load_vectors
from xlner_allennlp.language_vectors import (
    FIRST_ROW_ID,
    checked_language_spec,
    remember_word_index,
    unknown_language_error,
)

logger = logging.getLogger(__name__)

_NAME = "xlner_aligned_embedding"


class _Placement(NamedTuple):
    """Where a language's artifact puts its reference language: `probe` is the reference side of
    the artifact applied to fixed random rows, shape `(dim, dim)`."""

    side: str
    reference_language: str
    directory: str
    probe: np.ndarray


@TokenEmbedder.register("xlner_aligned_embedding")
class AlignedEmbedding(TokenEmbedder):
    """
    Looks up frozen, cross-lingually aligned word vectors: one model, plug in any aligned language.

    For each language the vectors are loaded (`load_vectors`) and mapped once, at construction:
    with an alignment artifact, `load_alignment(dir).apply(vectors, side)` (the mapped side
    gives `normalize_mapped(x) @ W`, the reference/pivot side only `normalize_reference(x)`), with the
    normalization recorded in the artifact; without one, the `normalization` steps fitted on that
    language's own vectors. All languages live in one table, each as a block
    `[padding (zeros), OOV (zeros), row 0, row 1, ...]`, and `forward` adds each instance's block
    offset to the ids of the `xlner_aligned_word` indexer.

    The table is a non-persistent buffer: it is never trained (no parameter, no gradient) and
    never written to the model archive. Vectors and mappings are referenced by path and rebuilt
    from the files when an archive is loaded, so configuration overrides (or `add_language`) can
    point a trained model to other paths, e.g. to tag a language that was aligned after training.

    Languages mapped by different artifacts share one space only if those artifacts place their
    common reference language alike: a language mapped by an artifact whose reference language is
    configured on the reference side of another artifact (English placed by `es-en`, Dutch mapped
    by `nl-en`) is refused when the two artifacts' reference sides differ (a method that also maps
    the reference side, such as `multistep`, places English differently for every target).

    Registered as a `TokenEmbedder` with name "xlner_aligned_embedding".

    # Parameters

    languages : `Dict[str, Dict[str, Any]]`
        Language name to its settings: `"vectors"` (required) the path of its vector file (`.npy`
        + `.vocab`, or word2vec text); `"alignment"` (optional) an alignment artifact directory;
        `"side"` (optional, `"mapped"` or `"reference"`, only with `"alignment"`) which side of the
        artifact this language is, by default `"reference"` when the artifact's reference language
        is this language and `"mapped"` when its mapped language is; `"max_vocab"` (optional) keep
        only the first rows of the vector file. Give the indexer the same dict.
    normalization : `str`, optional (default=`"unit"`)
        Normalization steps (e.g. `"unit"`, `"unit,center"`, `"none"`) applied to the languages
        that have no alignment artifact; an artifact applies its own recorded normalization.
    default_language : `Optional[str]`, optional (default=`None`)
        The language of instances given no language in `forward`. When `None` and exactly one
        language is configured, that language is the default.
    """

    def __init__(
        self,
        languages: Dict[str, Dict[str, Any]],
        normalization: str = "unit",
        default_language: Optional[str] = None,
    ) -> None:
        super().__init__()
        if not languages:
            raise ConfigurationError(f"{_NAME}: no languages configured")
        try:
            parse_steps(normalization)
        except ValueError as error:
            raise ConfigurationError(f"{_NAME}: {error}") from None
        self._normalization = normalization
        self._dim: Optional[int] = None
        self._dim_source = ""
        self._languages: Dict[str, Dict[str, Any]] = {}
        self._placements: Dict[str, _Placement] = {}
        self._order: List[str] = []
        self.register_buffer("table", torch.zeros(0, 0), persistent=False)
        self.register_buffer("_offsets", torch.zeros(0, dtype=torch.long), persistent=False)
        self.register_buffer("_sizes", torch.zeros(0, dtype=torch.long), persistent=False)
        blocks = {language: self._build_block(language, spec) for language, spec in languages.items()}
        self._check_placements()
        self._set_table(blocks)
        if default_language is None and len(self._languages) == 1:
            default_language = self._order[0]
        if default_language is not None and default_language not in self._languages:
            raise unknown_language_error(default_language, self._order, _NAME)
        self._default_language = default_language

    @property
    def languages(self) -> List[str]:
        """The configured languages, in table order."""
        return list(self._order)

    def get_output_dim(self) -> int:
        return int(self.table.shape[1])

    def add_language(self, language: str, spec: Dict[str, Any]) -> None:
        """Load and map ``language`` (an entry as in ``languages``); replaces it if present."""
        before = dict(self._languages), dict(self._placements)
        block = self._build_block(language, spec)
        try:
            self._check_placements()
        except ConfigurationError:
            self._languages, self._placements = before
            raise
        blocks: Dict[str, Union[np.ndarray, torch.Tensor]] = {}
        for name, offset, size in zip(self._order, self._offsets.tolist(), self._sizes.tolist()):
            if name != language:
                blocks[name] = self.table[offset : offset + size]
        blocks[language] = block
        self._set_table(blocks)

    def forward(
        self, tokens: torch.LongTensor, language: Union[str, Sequence[Optional[str]], None] = None
    ) -> torch.Tensor:
        """
        `tokens`: ids from `xlner_aligned_word`, shape `(batch, ...)`; `language`: the language of
        each instance (length `batch`), one language for all, or `None` for `default_language`.
        When `tokens`' first dimension is a multiple `k * batch` (wrapping dims flattened by
        `TimeDistributed`), each language applies to `k` consecutive rows. Returns
        `(batch, ..., dim)`.
        """
        positions = self._positions(language, tokens.size(0))
        index = torch.as_tensor(positions, dtype=torch.long, device=tokens.device)
        shape = (-1,) + (1,) * (tokens.dim() - 1)
        sizes = self._sizes[index].view(shape)
        too_large = tokens >= sizes
        if bool(too_large.any()):
            row = int(too_large.reshape(tokens.size(0), -1).any(dim=1).nonzero()[0, 0])
            name = self._order[positions[row]]
            raise ConfigurationError(
                f"{_NAME}: id {int(tokens[row].max())} is beyond the {int(self._sizes[positions[row]]) - FIRST_ROW_ID} "
                f"words of language {name!r} ({self._languages[name]['vectors']}); the indexer and the "
                f"embedder must use the same vector file and max_vocab"
            )
        ids = tokens + self._offsets[index].view(shape)
        return torch.nn.functional.embedding(ids, self.table)

    def _positions(self, language: Union[str, Sequence[Optional[str]], None], rows: int) -> List[int]:
        names: List[Optional[str]]
        if language is None or isinstance(language, str):
            names = [language] * rows
        else:
            names = list(language)
            if len(names) != rows:
                if not names or rows % len(names) != 0:
                    raise ConfigurationError(
                        f"{_NAME}: {len(names)} languages given for a batch of {rows} instances"
                    )
                names = [name for name in names for _ in range(rows // len(names))]
        position = {name: i for i, name in enumerate(self._order)}
        positions = []
        for name in names:
            name = self._default_language if name is None else name
            if name not in position:
                raise unknown_language_error(name, self._order, _NAME)
            positions.append(position[name])
        return positions

    def _build_block(self, language: str, spec: Dict[str, Any]) -> np.ndarray:
        """`[padding, OOV, mapped rows...]` of ``language`` as float32, shape `(n + 2, dim)`."""
        where = f"{_NAME}, language {language!r}"
        spec = checked_language_spec(language, spec, _NAME)
        path, directory, side = spec["vectors"], spec.get("alignment"), spec.get("side")
        max_vocab = spec.get("max_vocab")
        self._placements.pop(language, None)
        start = time.perf_counter()
        try:
            vectors = load_vectors(path, max_vocab)
        except VectorFileError as error:
            raise ConfigurationError(f"{where}: {error}") from None
        if self._dim is not None and vectors.dim != self._dim:
            raise ConfigurationError(
                f"{where}: {path} has {vectors.dim}-dimensional vectors but {self._dim_source} has "
                f"{self._dim}; all languages must share one space"
            )
        if directory is None:
            mapped = Normalization.fit(vectors.matrix, self._normalization).apply(vectors.matrix)
        else:
            try:
                alignment = load_alignment(directory)
                alignment.require_passed(directory)
            except ArtifactError as error:
                raise ConfigurationError(f"{where}: {error}") from None
            if side is None:
                try:
                    side = alignment.side_of(language, f"the artifact {directory}")
                except ArtifactError as error:
                    raise ConfigurationError(f"{where}: {error}") from None
            if alignment.dim != vectors.dim:
                raise ConfigurationError(
                    f"{where}: the artifact {directory} is {alignment.dim}-dimensional but {path} has "
                    f"{vectors.dim}-dimensional vectors"
                )
            mapped = alignment.apply(vectors.matrix, side)
            self._placements[language] = _Placement(
                side, alignment.reference_language, directory, alignment.reference_placement()
            )
        remember_word_index(path, max_vocab, vectors.index)
        block = np.zeros((len(vectors) + FIRST_ROW_ID, vectors.dim), dtype=np.float32)
        block[FIRST_ROW_ID:] = mapped
        if self._dim is None:
            self._dim, self._dim_source = vectors.dim, path
        self._languages[language] = dict(spec)
        logger.info(
            "%s: %s, %d words from %s%s in %.1f s",
            _NAME,
            language,
            len(vectors),
            path,
            f" mapped as {side} of {directory}" if directory else f" normalized {self._normalization!r}",
            time.perf_counter() - start,
        )
        return block

    def _check_placements(self) -> None:
        """Refuse artifacts that place a shared reference language differently (see the class)."""
        for language, placement in self._placements.items():
            reference = self._placements.get(placement.reference_language)
            if placement.side != "mapped" or reference is None or reference.side != "reference":
                continue
            if not np.array_equal(placement.probe, reference.probe):
                name = placement.reference_language
                raise ConfigurationError(
                    f"{_NAME}: the artifact {placement.directory} of language {language!r} places "
                    f"{name!r} differently from {reference.directory}, which places {name!r} here, "
                    f"so they share no space; use artifacts that place {name!r} alike (a method "
                    f"that only normalizes it, e.g. procrustes-refine or self-learning, not "
                    f"multistep) or one model per target language"
                )

    def _set_table(self, blocks: Dict[str, Union[np.ndarray, torch.Tensor]]) -> None:
        tensors = [torch.as_tensor(block, dtype=self.table.dtype, device=self.table.device) for block in blocks.values()]
        sizes = [int(t.shape[0]) for t in tensors]
        offsets = np.cumsum([0] + sizes[:-1]).tolist()
        self._order = list(blocks)
        self.table = torch.cat(tensors)
        self._sizes = torch.tensor(sizes, dtype=torch.long, device=self.table.device)
        self._offsets = torch.tensor(offsets, dtype=torch.long, device=self.table.device)
