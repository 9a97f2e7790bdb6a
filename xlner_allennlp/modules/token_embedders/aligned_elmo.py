"""Contextual word vectors of several languages' ELMos, mapped layer by layer into one shared space.

Each language has its own ELMo (an ``xlner-export-elmo`` directory) and, per layer, the anchors'
mean token norm (``xlner-anchors``) and an alignment artifact fitted on those anchors
(``xlner-align``). A token vector ``e`` of layer ``l`` becomes
``alignment_l.apply(e / mean_token_norm_l, side)``, the same transformation the artifact applies to
the anchors, so all languages (the pivot too) have mean token norm ≈ 1 before rotation.
"""
import logging
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from allennlp.common.checks import ConfigurationError
from allennlp.modules.scalar_mix import ScalarMix
from allennlp.modules.token_embedders.token_embedder import TokenEmbedder

from xlner_allennlp.alignment import ArtifactError, load_alignment
from xlner_allennlp.alignment.artifact import SIDES
from xlner_allennlp.contextual.anchor_files import read_mean_token_norms
from xlner_allennlp.data.token_indexers.aligned_word import unknown_language_error
from xlner_allennlp.contextual.elmo_format import ElmoFormatError
from xlner_allennlp.modules.elmo import contextual_layers, load_elmo_bilm

logger = logging.getLogger(__name__)

SPEC_KEYS = ("elmo", "anchors", "alignment", "side")
_NAME = "xlner_aligned_elmo"
_ELMOS = "_elmos"


def layer_alignment_dir(alignment: str, layer: int) -> str:
    """The artifact of ``layer`` inside a language's alignment directory."""
    return os.path.join(alignment, f"layer{layer}")


class FrozenLayerMap(torch.nn.Module):
    """
    ``x -> steps(x * scale) @ W``: an alignment artifact's transformation of one side, in torch.

    ``scale`` is ``1 / mean_token_norm`` (1 without anchors), ``steps`` the artifact's recorded
    normalization of that side (``unit``: rows to unit length, ``center``: minus the stored mean),
    ``W`` its mapping (mapped side), its reference mapping (reference side, when it has one) or none.
    All tensors are non-persistent buffers: never trained, never saved, rebuilt from the files.
    """

    def __init__(self, scale: float, alignment: Optional[Any] = None, side: str = "mapped") -> None:
        super().__init__()
        self.scale = scale
        self.steps: List[str] = []
        self.register_buffer("_matrix", None, persistent=False)
        if alignment is None:
            return
        normalization = alignment.mapped_normalization if side == "mapped" else alignment.reference_normalization
        self.steps = list(normalization.steps)
        for i, mean in enumerate(normalization.means):
            if mean is not None:
                self.register_buffer(f"mean_{i}", torch.as_tensor(mean, dtype=torch.float32), persistent=False)
        matrix = alignment.mapping if side == "mapped" else alignment.reference_mapping
        if matrix is not None:
            self._matrix = torch.as_tensor(matrix, dtype=torch.float32)

    def forward(self, vectors: torch.Tensor) -> torch.Tensor:
        """`vectors` `(..., dim)` to the mapped `(..., dim)`."""
        current = vectors * self.scale
        for i, step in enumerate(self.steps):
            if step == "unit":
                norms = current.norm(dim=-1, keepdim=True)
                current = current / torch.where(norms == 0, torch.ones_like(norms), norms)
            else:
                current = current - getattr(self, f"mean_{i}")
        return current if self._matrix is None else current @ self._matrix


@TokenEmbedder.register("xlner_aligned_elmo")
class AlignedElmo(TokenEmbedder):
    """
    Contextual vectors from each instance's own language's ELMo, mapped by frozen per-layer maps.

    `forward` takes the character ids of allennlp's `elmo_characters` indexer (key
    `elmo_tokens`) and each instance's language (passed by the `xlner_crf_tagger`, like for
    `xlner_aligned_embedding`); it runs that language's ELMo (LSTM states reset every batch),
    applies each selected layer's map (:class:`FrozenLayerMap`), then returns the single layer or
    a trainable scalar mix of the mapped layers, followed by dropout. Neither the ELMos nor the
    maps are trained (no parameter of theirs requires a gradient) or written to the model archive:
    they are rebuilt from the files named in `languages`, so a language the model never saw is
    plugged in by configuration alone (an override of `languages`).

    Registered as a `TokenEmbedder` with name "xlner_aligned_elmo".

    # Parameters

    languages : `Dict[str, Dict[str, Any]]`
        Language name to its settings: `"elmo"` (required) an ELMo directory (`options.json` +
        `weights.hdf5`); `"anchors"` (optional) the `xlner-anchors` directory whose
        `mean_token_norms` divide the vectors, required with `"alignment"`; `"alignment"`
        (optional) a directory holding one `xlner-align` artifact per layer, `layer{l}/`; `"side"`
        (optional, `"mapped"` or `"reference"`) this language's side of those artifacts, by default
        the side whose language code is this language. Without `"alignment"`, vectors are only
        divided by the norms (with `"anchors"`) or left as they are (the unaligned baseline).
    layers : `List[int]`, optional (default = `[1]`)
        ELMo layers to use (0 = character CNN, 1.. = LSTM layers). One layer is returned as it is;
        several are scalar-mixed after each is mapped.
    dropout : `float`, optional (default = `0.3`)
        Dropout on the output.
    default_language : `Optional[str]`, optional (default = `None`)
        The language of instances given no language; with one configured language, that one.
    cache_tokens : `int`, optional (default = `0`)
        Keep the mapped layers of up to this many tokens in memory (`4 * len(layers) * dim` bytes
        per token), keyed by language and sentence, and reuse them when the sentence comes again:
        the ELMos are frozen and stateless, so a sentence's vectors never change, and a tagger's
        later epochs then skip them. 0 disables the cache; once full, new sentences are computed
        every time.
    """

    def __init__(
        self,
        languages: Dict[str, Dict[str, Any]],
        layers: List[int] = (1,),  # type: ignore[assignment]
        dropout: float = 0.3,
        default_language: Optional[str] = None,
        cache_tokens: int = 0,
    ) -> None:
        super().__init__()
        if cache_tokens < 0:
            raise ConfigurationError(f"{_NAME}: cache_tokens must be at least 0, got {cache_tokens}")
        self._cache_tokens = cache_tokens
        self._cached_tokens = 0
        self._cache: Dict[Tuple[str, bytes], torch.Tensor] = {}
        if not languages:
            raise ConfigurationError(f"{_NAME}: no languages configured")
        self._layers = list(layers)
        if not self._layers or len(set(self._layers)) != len(self._layers):
            raise ConfigurationError(f"{_NAME}: layers must be distinct layer numbers, got {self._layers}")
        self._dim: Optional[int] = None
        self._specs: Dict[str, Dict[str, Any]] = {}
        setattr(self, _ELMOS, torch.nn.ModuleDict())
        self._maps = torch.nn.ModuleDict()
        for language, spec in languages.items():
            self.add_language(language, spec)
        self._scalar_mix = ScalarMix(len(self._layers), do_layer_norm=False) if len(self._layers) > 1 else None
        self._dropout = torch.nn.Dropout(dropout)
        if default_language is None and len(self._specs) == 1:
            default_language = next(iter(self._specs))
        if default_language is not None and default_language not in self._specs:
            raise unknown_language_error(default_language, self.languages, _NAME)
        self._default_language = default_language
        self.register_state_dict_post_hook(_drop_frozen_keys)

    @property
    def languages(self) -> List[str]:
        return list(self._specs)

    def get_output_dim(self) -> int:
        assert self._dim is not None
        return self._dim

    def add_language(self, language: str, spec: Dict[str, Any]) -> None:
        """Load ``language``'s ELMo and layer maps (an entry as in ``languages``); replaces it if present."""
        where = f"{_NAME}, language {language!r}"
        if not isinstance(spec, dict) or not isinstance(spec.get("elmo"), str):
            raise ConfigurationError(f"{where}: the entry needs an \"elmo\" directory, got {spec!r}")
        unknown = sorted(set(spec) - set(SPEC_KEYS))
        if unknown:
            raise ConfigurationError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(SPEC_KEYS)}")
        if spec.get("alignment") and not spec.get("anchors"):
            raise ConfigurationError(
                f"{where}: \"alignment\" needs \"anchors\" (the mean token norms the aligned anchors were divided by)"
            )
        try:
            bilm = load_elmo_bilm(spec["elmo"])
        except ElmoFormatError as error:
            raise ConfigurationError(f"{where}: {error}") from None
        bad = [layer for layer in self._layers if not 0 <= layer < bilm.num_activation_layers]
        if bad:
            raise ConfigurationError(f"{where}: {spec['elmo']} has layers 0-{bilm.num_activation_layers - 1}, not {bad}")
        if self._dim is not None and bilm.get_output_dim() != self._dim:
            raise ConfigurationError(
                f"{where}: {spec['elmo']} gives {bilm.get_output_dim()}-dimensional vectors, the other "
                f"languages {self._dim}; all languages must share one space"
            )
        norms = [1.0] * bilm.num_activation_layers
        if spec.get("anchors"):
            try:
                norms = read_mean_token_norms(spec["anchors"])
            except (ValueError, FileNotFoundError) as error:
                raise ConfigurationError(f"{where}: {error}") from None
            if len(norms) != bilm.num_activation_layers:
                raise ConfigurationError(
                    f"{where}: {spec['anchors']} has norms of {len(norms)} layers, {spec['elmo']} has {bilm.num_activation_layers}"
                )
        maps = torch.nn.ModuleList(
            [self._layer_map(where, language, spec, layer, 1.0 / norms[layer], bilm.get_output_dim())
             for layer in self._layers]
        )
        getattr(self, _ELMOS)[language] = bilm
        self._maps[language] = maps
        self._forget(language)
        self._specs[language] = dict(spec)
        self._dim = bilm.get_output_dim()
        logger.info("%s: %s from %s, layers %s%s", _NAME, language, spec["elmo"], self._layers,
                    f" mapped by {spec['alignment']}" if spec.get("alignment") else "")

    @staticmethod
    def _layer_map(where: str, language: str, spec: Dict[str, Any], layer: int, scale: float, dim: int) -> FrozenLayerMap:
        if not spec.get("alignment"):
            return FrozenLayerMap(scale)
        directory = layer_alignment_dir(spec["alignment"], layer)
        if not os.path.isdir(directory):
            raise ConfigurationError(
                f"{where}: layer {layer} has no alignment artifact: {directory} is missing "
                f"(align the layer's anchors with allennlp xlner-align --output {directory})"
            )
        try:
            alignment = load_alignment(directory)
            alignment.require_passed(directory)
        except ArtifactError as error:
            raise ConfigurationError(f"{where}: {error}") from None
        side = spec.get("side")
        if side is None:
            try:
                side = alignment.side_of(language, f"the artifact {directory}")
            except ArtifactError as error:
                raise ConfigurationError(f"{where}: {error}") from None
        if side not in SIDES:
            raise ConfigurationError(f"{where}: side must be {' or '.join(map(repr, SIDES))}, got {side!r}")
        if alignment.dim != dim:
            raise ConfigurationError(
                f"{where}: the artifact {directory} is {alignment.dim}-dimensional, the ELMo layers {dim}-dimensional"
            )
        return FrozenLayerMap(scale, alignment, side)

    def forward(
        self, elmo_tokens: torch.Tensor, language: Union[str, Sequence[Optional[str]], None] = None
    ) -> torch.Tensor:
        """
        `elmo_tokens`: character ids `(batch, timesteps, 50)`; `language`: each instance's language
        (length `batch`), one for all, or `None` for `default_language`. Returns
        `(batch, timesteps, dim)`, zeros at padding.
        """
        names = self._languages_of(language, elmo_tokens.size(0))
        batch, timesteps = elmo_tokens.shape[:2]
        stacked = elmo_tokens.new_zeros((batch, timesteps, len(self._layers), self.get_output_dim()), dtype=torch.float32)
        with torch.no_grad():
            if self._cache_tokens:
                self._fill_through_cache(stacked, elmo_tokens, names)
            else:
                for name in dict.fromkeys(names):
                    rows = torch.tensor([i for i, n in enumerate(names) if n == name], device=elmo_tokens.device)
                    stacked[rows] = self._mapped_layers(name, elmo_tokens[rows])
        mapped = list(stacked.unbind(dim=2))
        output = mapped[0] if self._scalar_mix is None else self._scalar_mix(mapped)
        return self._dropout(output)

    def _mapped_layers(self, name: str, character_ids: torch.Tensor) -> torch.Tensor:
        """``name``'s selected layers of a batch, mapped: `(batch, timesteps, len(layers), dim)`, zeros at padding."""
        layers, mask = contextual_layers(getattr(self, _ELMOS)[name], character_ids)
        mapped = [layer_map(layers[layer]) for layer, layer_map in zip(self._layers, self._maps[name])]
        return torch.stack(mapped, dim=2) * mask[:, :, None, None]

    def _fill_through_cache(self, stacked: torch.Tensor, elmo_tokens: torch.Tensor, names: List[str]) -> None:
        """Fill ``stacked`` `(batch, timesteps, len(layers), dim)` from the cache, computing (and
        caching, while there is room) the sentences it lacks in one batch per language."""
        lengths = (elmo_tokens > 0).any(dim=-1).sum(dim=-1).tolist()
        keys = [(name, elmo_tokens[row, :length].cpu().numpy().tobytes())
                for row, (name, length) in enumerate(zip(names, lengths))]
        missing: Dict[str, List[int]] = {}
        for row, key in enumerate(keys):
            if key in self._cache:
                stacked[row, : lengths[row]] = self._cache[key]
            else:
                missing.setdefault(names[row], []).append(row)
        for name, rows in missing.items():
            longest = max(lengths[row] for row in rows)
            index = torch.tensor(rows, device=elmo_tokens.device)
            computed = self._mapped_layers(name, elmo_tokens[index, :longest])
            stacked[index, :longest] = computed
            for position, row in enumerate(rows):
                if self._cached_tokens + lengths[row] <= self._cache_tokens and keys[row] not in self._cache:
                    self._cache[keys[row]] = computed[position, : lengths[row]].clone()
                    self._cached_tokens += lengths[row]

    def _forget(self, language: str) -> None:
        """Drop ``language``'s cached sentences (its ELMo or maps were replaced)."""
        for key in [key for key in self._cache if key[0] == language]:
            self._cached_tokens -= self._cache.pop(key).size(0)

    def _languages_of(self, language: Union[str, Sequence[Optional[str]], None], rows: int) -> List[str]:
        names = [language] * rows if language is None or isinstance(language, str) else list(language)
        if len(names) != rows:
            raise ConfigurationError(f"{_NAME}: {len(names)} languages given for a batch of {rows} instances")
        resolved = []
        for name in names:
            name = self._default_language if name is None else name
            if name not in self._specs:
                raise unknown_language_error(name, self.languages, _NAME)
            resolved.append(name)
        return resolved

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The ELMo weights are not in saved state dicts (see `_drop_frozen_keys`): keep the ones
        # loaded from the files, for every language configured now.
        for key, value in getattr(self, _ELMOS).state_dict(prefix=f"{prefix}{_ELMOS}.").items():
            state_dict.setdefault(key, value)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def _drop_frozen_keys(module: torch.nn.Module, state_dict: Dict[str, Any], prefix: str, local_metadata: Any) -> None:
    """Leave the frozen ELMo weights out of the state dict: they are read from their files."""
    for key in [k for k in state_dict if k.startswith(f"{prefix}{_ELMOS}.")]:
        del state_dict[key]
