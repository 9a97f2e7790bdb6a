"""FastConditionalRandomField gives allennlp's ConditionalRandomField's results (log-likelihood,
gradients, Viterbi paths and scores) on random inputs, and its extra functions are right."""
import itertools
from typing import Dict

import pytest
import torch
from allennlp.modules.conditional_random_field import ConditionalRandomField, allowed_transitions

from xlner_allennlp.modules.conditional_random_field import (
    FORBIDDEN_SCORE,
    FastConditionalRandomField,
    crf_potentials,
    decoding_confidence,
    log_partition,
    path_score,
    sequence_lengths,
    viterbi_decode,
)

TYPES = ["PER", "LOC", "ORG", "MISC"]


def labels_of(encoding: str) -> Dict[int, str]:
    prefixes = {"BIO": "BI", "BIOUL": "BIUL"}[encoding]
    names = ["O"] + [f"{prefix}-{kind}" for kind in TYPES for prefix in prefixes]
    return dict(enumerate(names))


def crf_pair(encoding: str, constrained: bool, start_end: bool, seed: int = 0):
    """An allennlp CRF with random parameters and our CRF with the same state dict."""
    torch.manual_seed(seed)
    labels = labels_of(encoding)
    constraints = allowed_transitions(encoding, labels) if constrained else None
    reference = ConditionalRandomField(len(labels), constraints, include_start_end_transitions=start_end)
    with torch.no_grad():
        reference.transitions.normal_(0, 2)
    fast = FastConditionalRandomField(len(labels), constraints, include_start_end_transitions=start_end)
    fast.load_state_dict(reference.state_dict())
    return reference, fast


def random_batch(num_tags: int, batch_size: int = 7, seq_len: int = 11, scale: float = 3.0, seed: int = 1):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, seq_len + 1, (batch_size,), generator=generator)
    lengths[0], lengths[1] = seq_len, 1
    mask = torch.arange(seq_len).unsqueeze(0) < lengths.unsqueeze(1)
    logits = torch.randn(batch_size, seq_len, num_tags, generator=generator) * scale
    tags = torch.randint(0, num_tags, (batch_size, seq_len), generator=generator) * mask
    return logits, tags, mask


def parameters(crf):
    names = ["transitions"] + (["start_transitions", "end_transitions"] if crf.include_start_end_transitions else [])
    return [getattr(crf, name) for name in names]


CASES = list(itertools.product(["BIO", "BIOUL"], [True, False], [True, False]))


@pytest.mark.parametrize("encoding,constrained,start_end", CASES)
def test_log_likelihood_and_gradients_match_allennlp(encoding, constrained, start_end):
    reference, fast = crf_pair(encoding, constrained, start_end)
    logits, tags, mask = random_batch(fast.num_tags)
    logits.requires_grad_()

    expected = reference(logits, tags, mask)
    expected_grads = torch.autograd.grad(expected, [logits] + parameters(reference))
    actual = fast(logits, tags, mask)
    actual_grads = torch.autograd.grad(actual, [logits] + parameters(fast))

    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-3)
    for got, want in zip(actual_grads, expected_grads):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)

    per_sentence = reference._joint_likelihood(logits, reference.transitions, tags, mask) - reference._input_likelihood(
        logits, reference.transitions, mask
    )
    torch.testing.assert_close(fast.log_likelihood(logits, tags, mask), per_sentence, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("encoding,constrained,start_end", CASES)
def test_viterbi_matches_allennlp(encoding, constrained, start_end):
    reference, fast = crf_pair(encoding, constrained, start_end)
    logits, _, mask = random_batch(fast.num_tags, batch_size=12, seed=3)

    expected = reference.viterbi_tags(logits, mask)
    actual = fast.viterbi_tags(logits, mask)
    assert [path for path, _ in actual] == [path for path, _ in expected]
    assert [len(path) for path, _ in actual] == mask.sum(1).tolist()
    for (_, got), (_, want) in zip(actual, expected):
        assert got == pytest.approx(want, abs=1e-3)

    assert fast.viterbi_tags(logits, mask, top_k=1) == [[one] for one in actual]
    top_two = fast.viterbi_tags(logits, mask, top_k=2)
    assert [[path for path, _ in best] for best in top_two] == [
        [path for path, _ in best] for best in reference.viterbi_tags(logits, mask, top_k=2)
    ]


def test_constrained_paths_are_valid_and_differ_from_unconstrained_ones():
    labels = labels_of("BIOUL")
    allowed = set(allowed_transitions("BIOUL", labels))
    _, fast = crf_pair("BIOUL", constrained=True, start_end=True)
    _, free = crf_pair("BIOUL", constrained=False, start_end=True)
    logits, _, mask = random_batch(fast.num_tags, batch_size=20, seed=5)
    start, end = fast.num_tags, fast.num_tags + 1
    for path, _ in fast.viterbi_tags(logits, mask):
        steps = [(start, path[0])] + list(zip(path, path[1:])) + [(path[-1], end)]
        assert all(step in allowed for step in steps), path
    assert [p for p, _ in fast.viterbi_tags(logits, mask)] != [p for p, _ in free.viterbi_tags(logits, mask)]


def test_mask_defaults_to_all_positions():
    _, fast = crf_pair("BIO", constrained=True, start_end=True)
    logits, tags, _ = random_batch(fast.num_tags)
    full = torch.ones(tags.shape, dtype=torch.bool)
    torch.testing.assert_close(fast(logits, tags), fast(logits, tags, full))
    assert fast.viterbi_tags(logits) == fast.viterbi_tags(logits, full)


def test_padded_positions_are_never_read():
    _, fast = crf_pair("BIOUL", constrained=True, start_end=True)
    logits, tags, mask = random_batch(fast.num_tags)
    poisoned = logits.masked_fill(~mask.unsqueeze(2), float("nan")).requires_grad_()
    clean = logits.clone().requires_grad_()

    loss_poisoned = fast(poisoned, tags, mask)
    loss_clean = fast(clean, tags, mask)
    torch.testing.assert_close(loss_poisoned, loss_clean)
    grad_poisoned, = torch.autograd.grad(loss_poisoned, poisoned)
    grad_clean, = torch.autograd.grad(loss_clean, clean)
    torch.testing.assert_close(grad_poisoned, grad_clean)
    assert (grad_clean[~mask] == 0).all()
    assert fast.viterbi_tags(poisoned, mask) == fast.viterbi_tags(clean, mask)


def test_large_scores_stay_finite_and_match_allennlp():
    reference, fast = crf_pair("BIO", constrained=True, start_end=True)
    logits, tags, mask = random_batch(fast.num_tags, scale=200.0)
    expected = reference(logits, tags, mask)
    actual = fast(logits, tags, mask)
    assert torch.isfinite(actual)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-2)
    confidence = decoding_confidence(logits, mask, fast.viterbi_decode(logits, mask)[1], fast, constrained=True)
    assert torch.isfinite(confidence).all()


def all_paths_scores(logits, transitions, start, end, length):
    """Scores of every tag sequence of a sentence by enumeration: `{path: score}`."""
    num_tags = logits.size(-1)
    scores = {}
    for path in itertools.product(range(num_tags), repeat=length):
        score = start[path[0]] + end[path[-1]] + sum(logits[t, tag] for t, tag in enumerate(path))
        score = score + sum(transitions[a, b] for a, b in zip(path, path[1:]))
        scores[path] = float(score)
    return scores


@pytest.mark.parametrize("constrained", [False, True])
def test_log_partition_path_score_and_confidence_by_enumeration(constrained):
    labels = {0: "O", 1: "B-PER", 2: "I-PER"}
    crf = FastConditionalRandomField(3, allowed_transitions("BIO", labels))
    torch.manual_seed(4)
    with torch.no_grad():
        for parameter in parameters(crf):
            parameter.normal_()
    logits = torch.randn(3, 4, 3)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    transitions, start, end = (p.detach() for p in crf_potentials(crf, constrained=constrained))
    log_z = log_partition(logits, mask, transitions, start, end)
    paths, best_scores = viterbi_decode(logits, mask, transitions, start, end)
    confidence = decoding_confidence(logits, mask, best_scores, crf, constrained=constrained)
    for row, length in enumerate(mask.sum(1).tolist()):
        scores = all_paths_scores(logits[row], transitions, start, end, length)
        if constrained:
            scores = {path: score for path, score in scores.items() if score > FORBIDDEN_SCORE / 2}
        enumerated = torch.logsumexp(torch.tensor(list(scores.values())), 0)
        assert float(log_z[row]) == pytest.approx(float(enumerated), abs=1e-4)
        best_path = max(scores, key=scores.get)
        assert tuple(paths[row, :length].tolist()) == best_path
        assert (paths[row, length:] == paths[row, length - 1]).all()
        assert float(best_scores[row]) == pytest.approx(scores[best_path], abs=1e-4)
        probability = torch.exp(torch.tensor(scores[best_path]) - enumerated)
        assert float(confidence[row]) == pytest.approx(float(probability), abs=1e-5)
        some_path = torch.tensor(list(next(iter(scores))) + [0] * (4 - length)).unsqueeze(0)
        assert float(
            path_score(logits[row : row + 1], some_path, mask[row : row + 1], transitions, start, end)
        ) == pytest.approx(scores[next(iter(scores))], abs=1e-4)


def test_log_partition_gradient_check():
    torch.manual_seed(6)
    logits = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1] * 5, [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    transitions = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
    start = torch.randn(4, dtype=torch.float64, requires_grad=True)
    end = torch.randn(4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda *inputs: log_partition(inputs[0], mask, *inputs[1:]), (logits, transitions, start, end)
    )


def test_confidence_is_near_one_for_a_dominant_path_and_lower_otherwise():
    _, fast = crf_pair("BIO", constrained=True, start_end=True)
    with torch.no_grad():
        for parameter in parameters(fast):
            parameter.zero_()
    mask = torch.ones(2, 3, dtype=torch.bool)
    logits = torch.zeros(2, 3, fast.num_tags)
    logits[0, :, 0] = 50.0  # "O O O" dominates
    _, scores = fast.viterbi_decode(logits, mask)
    confidence = decoding_confidence(logits, mask, scores, fast, constrained=True)
    assert float(confidence[0]) == pytest.approx(1.0, abs=1e-6)
    # Uniform scores: every allowed path is equally likely.
    assert 0.0 < float(confidence[1]) < 0.01


def test_fast_crf_is_a_drop_in_replacement():
    reference, fast = crf_pair("BIO", constrained=True, start_end=True)
    assert set(fast.state_dict()) == set(reference.state_dict())
    assert isinstance(fast, ConditionalRandomField)


@pytest.mark.parametrize(
    "mask",
    [
        [[1, 0, 1]],  # a hole
        [[0, 0, 0]],  # empty sequence
        [[0, 1, 1]],  # does not start at the first position
    ],
)
def test_non_prefix_masks_are_rejected(mask):
    with pytest.raises(ValueError, match="prefix mask"):
        sequence_lengths(torch.tensor(mask, dtype=torch.bool))
    _, fast = crf_pair("BIO", constrained=False, start_end=True)
    with pytest.raises(ValueError, match="prefix mask"):
        fast.viterbi_tags(torch.zeros(1, 3, fast.num_tags), torch.tensor(mask, dtype=torch.bool))
