"""Stochastic merging of a document pair into one pseudo-bilingual document (Wang et al. 2017, Alg. 1)."""
import numpy as np


def stochastic_merge(source: np.ndarray, target: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """Interleave two token-id sequences, keeping each one's order.

    With ``r = len(source) / (len(source) + len(target))``, each step takes the next source token
    with probability ``r`` and otherwise the next target token; once one side is exhausted the
    rest of the other follows. ``source`` and ``target`` are 1-D integer arrays (language-tagged
    ids, so the two sides never share an id); returns an array of length
    ``len(source) + len(target)``. Draws ``len(source) + len(target)`` uniforms from
    ``generator``, so a seeded generator gives a new, reproducible merge at each call (each epoch).
    """
    source = np.asarray(source)
    target = np.asarray(target)
    n_source, n_target = len(source), len(target)
    total = n_source + n_target
    if total == 0:
        return np.zeros(0, dtype=np.result_type(source, target))
    take_source = generator.random(total) < n_source / total
    # Stop drawing at the first step where one side has run out; the other side fills the rest.
    sources_taken = np.cumsum(take_source)
    targets_taken = np.arange(1, total + 1) - sources_taken
    exhausted = np.flatnonzero((sources_taken == n_source) | (targets_taken == n_target))
    stop = int(exhausted[0]) + 1
    take_source[stop:] = sources_taken[stop - 1] < n_source
    merged = np.empty(total, dtype=np.result_type(source, target))
    merged[take_source] = source
    merged[~take_source] = target
    return merged
