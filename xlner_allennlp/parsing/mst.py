"""Maximum spanning tree decoding of dependency arc scores (Chu-Liu-Edmonds), in plain numpy.

A sentence of ``n`` words is a graph of ``n + 1`` nodes, node 0 being the root sentinel. Given
arc scores ``scores[h, d]`` (head ``h`` of dependent ``d``), `decode_mst` returns the heads of the
highest-scoring dependency tree: every word has exactly one head, there is no cycle and, with
``single_root`` (UD's rule), exactly one word attaches to the root. Each contraction step is
vectorised over the graph, so a sentence costs a handful of ``(n, n)`` array operations per cycle.
"""
from typing import List, Optional, Sequence

import numpy as np


def _find_cycle(heads: np.ndarray) -> Optional[np.ndarray]:
    """The nodes of one cycle of the head graph ``heads`` (``heads[0] == -1``), or None."""
    head_of = heads.tolist()  # Python ints: element access on a list is ~10x cheaper than on an array
    state = [0] * len(head_of)  # 0 unvisited, 1 on the current path, 2 done
    state[0] = 2
    for start in range(1, len(head_of)):
        path = []
        node = start
        while state[node] == 0:
            state[node] = 1
            path.append(node)
            node = head_of[node]
        if state[node] == 1:
            return np.array(path[path.index(node):])
        for visited in path:
            state[visited] = 2
    return None


def _chu_liu_edmonds(scores: np.ndarray) -> np.ndarray:
    """Heads `(m,)` of the maximum spanning arborescence rooted at node 0 of the complete graph
    ``scores`` `(m, m)` (``scores[h, d]``; column 0 and the diagonal are ignored); ``heads[0] = -1``."""
    m = scores.shape[0]
    scores = scores.copy()
    scores[np.arange(m), np.arange(m)] = -np.inf
    scores[:, 0] = -np.inf
    heads = scores.argmax(axis=0)
    heads[0] = -1
    cycle = _find_cycle(heads)
    if cycle is None:
        return heads
    in_cycle = np.zeros(m, dtype=bool)
    in_cycle[cycle] = True
    outside = np.flatnonzero(~in_cycle)  # starts with the root, 0
    k = len(outside)
    # Entering the cycle at d from h replaces the cycle arc into d: gain scores[h, d] - cycle arc.
    entering = scores[outside[:, None], cycle] - scores[heads[cycle], cycle][None, :]
    best_entry = entering.argmax(axis=1)
    leaving = scores[cycle[:, None], outside]
    best_exit = leaving.argmax(axis=0)
    contracted = np.full((k + 1, k + 1), -np.inf)
    contracted[:k, :k] = scores[outside[:, None], outside]
    contracted[:k, k] = entering[np.arange(k), best_entry]
    contracted[k, :k] = leaving[best_exit, np.arange(k)]
    sub_heads = _chu_liu_edmonds(contracted)
    result = heads.copy()
    for j in range(1, k):
        head = sub_heads[j]
        result[outside[j]] = cycle[best_exit[j]] if head == k else outside[head]
    entry_head = sub_heads[k]
    result[cycle[best_entry[entry_head]]] = outside[entry_head]
    return result


def decode_mst(scores: np.ndarray, single_root: bool = True) -> np.ndarray:
    """
    Heads of the maximum spanning dependency tree of one sentence.

    # Parameters

    scores : `np.ndarray`
        `(n + 1, n + 1)` finite arc scores, ``scores[h, d]`` the score of word ``d`` (1..n) taking
        head ``h`` (0 = root). Column 0 and the diagonal are ignored (the root has no head, no word
        heads itself). Typically log-probabilities.
    single_root : `bool`, optional (default=`True`)
        Allow exactly one word to attach to the root. It is exact: the unconstrained best tree is
        kept when it has one root arc (no single-root tree can score more); otherwise every root
        arc is lowered by a constant larger than any score difference between trees, so the best
        tree has one root arc and is the best among those.

    # Returns

    `np.ndarray` of shape `(n + 1,)`, dtype int64: ``heads[d]`` for each word, ``heads[0] = 0``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1] or scores.shape[0] < 1:
        raise ValueError(f"scores must be a square (n + 1, n + 1) matrix, got shape {scores.shape}")
    size = scores.shape[0]
    if size == 1:
        return np.zeros(1, dtype=np.int64)
    off_diagonal = ~np.eye(size, dtype=bool)
    off_diagonal[:, 0] = False
    if not np.isfinite(scores[off_diagonal]).all():
        raise ValueError("arc scores must be finite (mask impossible arcs with a large negative number)")
    heads = _chu_liu_edmonds(scores)
    if single_root and np.count_nonzero(heads[1:] == 0) > 1:
        values = scores[off_diagonal]
        penalty = (values.max() - values.min() + 1.0) * size
        scores = scores.copy()
        scores[0, 1:] -= penalty
        heads = _chu_liu_edmonds(scores)
    heads[0] = 0
    return heads.astype(np.int64)


def decode_mst_batch(
    scores: np.ndarray, lengths: Sequence[int], single_root: bool = True
) -> List[np.ndarray]:
    """`decode_mst` of each sentence of a padded batch: ``scores`` `(batch, N + 1, N + 1)`,
    ``lengths[b]`` the number of words of sentence ``b`` (its matrix is the top-left
    `(lengths[b] + 1)` square). Returns one `(lengths[b] + 1,)` head array per sentence."""
    scores = np.asarray(scores)
    if scores.ndim != 3 or len(lengths) != scores.shape[0]:
        raise ValueError(f"expected (batch, N + 1, N + 1) scores and one length per sentence, got "
                         f"{scores.shape} and {len(lengths)} lengths")
    return [
        decode_mst(scores[b, : length + 1, : length + 1], single_root)
        for b, length in enumerate(lengths)
    ]
