import copy
import itertools

import numpy as np
import pytest
import torch

from xlner_allennlp.multitask import (
    MultitaskBwe,
    MultitaskBweSettings,
    SkipGramBatch,
    TaggedVocabulary,
    TrainingSettings,
    initial_rows,
    pad_sentences,
    train_multitask_bwe,
)

EN = "john said in paris today . mary said in london today".split()
ES = "john dijo en paris hoy . mary dijo en londres hoy".split()


def _vocabulary() -> TaggedVocabulary:
    documents = [("en", EN * 3), ("es", ES * 3)]
    return TaggedVocabulary.build(documents, ["en", "es"], min_count=1)


def _model(regime: str, **settings) -> MultitaskBwe:
    settings = {"dim": 4, **settings}
    return MultitaskBwe(_vocabulary(), num_tags=3, settings=MultitaskBweSettings(regime=regime, **settings))


def _lm_step(model: MultitaskBwe) -> None:
    vocabulary = model.vocabulary
    batch = model.skipgram_batch([(vocabulary.encode(EN, "en"), vocabulary.encode(ES, "es"))])
    assert len(batch) > 0
    model.lm_update(batch, learning_rate=0.5)


def _trained_context(model: MultitaskBwe) -> None:
    """Give Θ non-zero rows (word2vec starts it at zero, where V gets no Lm gradient at all)."""
    with torch.no_grad():
        model.context_embeddings.normal_(generator=torch.Generator().manual_seed(3))


def test_same_string_in_two_languages_is_two_entries():
    vocabulary = _vocabulary()
    assert vocabulary.row("en", "paris") != vocabulary.row("es", "paris")
    assert vocabulary.row("en", "Paris") == vocabulary.row("en", "paris")  # normalized lookup
    assert vocabulary.row("es", "said") == vocabulary.oov("es")  # an English word is OOV in Spanish


def test_hfj_lm_step_leaves_every_english_row_bit_identical():
    model = _model("hfj", subsample=0.0)
    _trained_context(model)
    before = model.embeddings.detach().clone()
    _lm_step(model)
    english = model.source_rows
    assert torch.equal(model.embeddings.detach()[english], before[english])
    assert not torch.equal(model.embeddings.detach()[~english], before[~english])  # target rows learn
    vocabulary = model.vocabulary
    batch = model.skipgram_batch([(vocabulary.encode(EN, "en"), vocabulary.encode(ES, "es"))])
    model.lm_update(batch, learning_rate=0.5, pretraining=True)
    assert not torch.equal(model.embeddings.detach()[english], before[english])  # the Lm-only start trains them


def test_fj_lm_step_changes_english_rows():
    model = _model("fj", subsample=0.0)
    _trained_context(model)
    before = model.embeddings.detach().clone()
    _lm_step(model)
    changed = (model.embeddings.detach() != before).any(dim=1)
    row = model.vocabulary.row
    assert changed[row("en", "said")] and changed[row("en", "paris")]


@pytest.mark.parametrize("regime", ["fj", "hfj"])
@pytest.mark.parametrize("sgd_pairs", [10_000, 7])  # one update for the whole batch, or one per 7 pairs
def test_lm_update_takes_one_sgd_step_per_chunk_of_sgd_pairs_in_a_random_order(regime, sgd_pairs):
    by_hand, by_autograd = _model(regime, subsample=0.0, sgd_pairs=sgd_pairs), _model(regime, subsample=0.0)
    for model in (by_hand, by_autograd):
        _trained_context(model)
    vocabulary = by_hand.vocabulary
    batch = by_hand.skipgram_batch([(vocabulary.encode(EN, "en"), vocabulary.encode(ES, "es"))])
    assert len(batch) > 7 * 3
    order = torch.from_numpy(copy.deepcopy(by_hand.rng).permutation(len(batch)))
    loss = by_hand.lm_update(batch, learning_rate=0.05)  # small: rounding differences are not amplified
    optimizer = torch.optim.SGD(by_autograd.parameters(), lr=0.05)
    expected = 0.0
    for chunk in order.split(sgd_pairs):
        optimizer.zero_grad()
        chunk_loss = by_autograd.lm_loss(SkipGramBatch(batch.centers[chunk], batch.contexts[chunk], batch.negatives[chunk]))
        chunk_loss.backward()
        optimizer.step()
        expected += float(chunk_loss.detach())
    assert abs(loss - expected) < 1e-4 * abs(expected)
    torch.testing.assert_close(by_hand.embeddings.detach(), by_autograd.embeddings.detach())
    torch.testing.assert_close(by_hand.context_embeddings.detach(), by_autograd.context_embeddings.detach())


@pytest.mark.parametrize("regime,moves_v", [("baseline", False), ("fj", True), ("hfj", True)])
def test_ner_step_trains_v_except_under_baseline(regime, moves_v):
    model = _model(regime, dropout=0.0)
    model.train()
    tokens, tags, mask = pad_sentences([(model.vocabulary.encode(EN[:5], "en"), np.array([1, 0, 0, 2, 0]))])
    before = model.embeddings.detach().clone()
    weights_before = model.tag_weights.detach().clone()
    model.ner_loss(tokens, tags, mask).backward()
    torch.optim.SGD(model.parameters(), lr=0.5).step()
    assert not torch.equal(model.tag_weights.detach(), weights_before)
    assert torch.equal(model.embeddings.detach(), before) != moves_v


def test_per_token_softmax_equals_the_sequence_normaliser_of_eq3_for_a_unigram_score():
    model = _model("fj", dropout=0.0)
    model.eval()
    tokens = torch.from_numpy(model.vocabulary.encode(["john", "said", "in", "paris"], "en")).unsqueeze(0)
    tags = torch.tensor([[1, 0, 0, 2]])
    mask = torch.ones_like(tags, dtype=torch.bool)
    with torch.no_grad():
        model.tag_weights.normal_(generator=torch.Generator().manual_seed(0))
        model.tag_bias.normal_(generator=torch.Generator().manual_seed(1))
        scores = model.tag_scores(tokens)[0].double()  # (length, T)
        length, num_tags = scores.shape
        # Eq. 3: p(y | x) = exp(sum_t s(x_t, y_t)) / sum over all T^length sequences y' of the same.
        all_sequences = torch.tensor(list(itertools.product(range(num_tags), repeat=length)))
        sequence_scores = scores[torch.arange(length), all_sequences].sum(-1)
        gold = scores[torch.arange(length), tags[0]].sum()
        exact_nll = -(gold - torch.logsumexp(sequence_scores, 0))
        loss = model.ner_loss(tokens, tags, mask).double() / model.settings.alpha
    assert torch.allclose(loss, exact_nll, rtol=1e-5)
    # And the best sequence under Eq. 3 is the per-token argmax.
    best = all_sequences[sequence_scores.argmax()]
    assert torch.equal(model.predict(tokens)[0], best)


def test_bilstm_crf_loss_and_decoding_equal_brute_force_over_all_tag_sequences():
    model = _model("fj", dropout=0.0, ner_model="bilstm_crf", lstm_hidden=3)
    model.eval()
    tokens = torch.from_numpy(model.vocabulary.encode(["john", "said", "in", "paris"], "en")).unsqueeze(0)
    tags = torch.tensor([[1, 0, 0, 2]])
    mask = torch.ones_like(tags, dtype=torch.bool)
    with torch.no_grad():
        generator = torch.Generator().manual_seed(0)
        for parameter in (model.tag_weights, model.tag_bias, model.transitions, model.start_transitions, model.end_transitions):
            parameter.normal_(generator=generator)
        emissions = model.tag_scores(tokens, mask)[0].double()  # (length, T)
        length, num_tags = emissions.shape
        sequences = torch.tensor(list(itertools.product(range(num_tags), repeat=length)))

        def score(y):
            return (emissions[torch.arange(length), y].sum() + model.start_transitions[y[0]]
                    + model.transitions[y[:-1], y[1:]].sum() + model.end_transitions[y[-1]]).double()

        all_scores = torch.stack([score(y) for y in sequences])
        exact_nll = torch.logsumexp(all_scores, 0) - score(tags[0])
        loss = model.ner_loss(tokens, tags, mask).double() / model.settings.alpha
    assert torch.allclose(loss, exact_nll, rtol=1e-5)
    assert torch.equal(model.predict(tokens, mask)[0], sequences[all_scores.argmax()])


def test_bilstm_crf_reads_each_sentence_to_its_own_length():
    model = _model("fj", dropout=0.0, ner_model="bilstm_crf", lstm_hidden=3)
    model.eval()
    short = model.vocabulary.encode(["john", "said"], "en")
    long = model.vocabulary.encode(["mary", "said", "in", "london"], "en")
    tokens, _, mask = pad_sentences([(short, np.zeros(2)), (long, np.zeros(4))])
    with torch.no_grad():
        batched = model.tag_scores(tokens, mask)
        alone = model.tag_scores(torch.from_numpy(short).unsqueeze(0))
    torch.testing.assert_close(batched[0, :2], alone[0])


def test_singletons_are_read_as_oov_at_the_configured_rate():
    model = _model("fj", oov_rate=0.5)
    singleton = model.vocabulary.row("en", "mary")
    other = model.vocabulary.row("en", "john")
    model.set_singletons([singleton])
    tokens = torch.tensor([[singleton, other]] * 20_000)
    replaced = model.replace_singletons(tokens)
    oov = model.vocabulary.oov("en")
    rate = float((replaced[:, 0] == oov).double().mean())
    assert abs(rate - 0.5) < 0.015
    assert torch.equal(replaced[:, 1], tokens[:, 1])
    model_never = _model("fj", oov_rate=0.0)
    model_never.set_singletons([singleton])
    assert torch.equal(model_never.replace_singletons(tokens), tokens)


@pytest.mark.parametrize("regime,ner_model", [("fj", "unigram"), ("hfj", "unigram"), ("hfj", "bilstm_crf")])
def test_joint_training_fits_the_english_tags(regime, ner_model):
    model = _model(regime, subsample=0.0, dropout=0.0, dim=8, alpha=0.9, ner_model=ner_model)
    vocabulary = model.vocabulary
    tags = {"john": 1, "mary": 1, "paris": 2, "london": 2}
    sentence = EN[:6]
    ner = [(vocabulary.encode(sentence, "en"), np.array([tags.get(w, 0) for w in sentence]))]
    pairs = [(vocabulary.encode(EN, "en"), vocabulary.encode(ES, "es"))]
    summary = train_multitask_bwe(model, ner, pairs, TrainingSettings(learning_rate=0.1, update_pairs=150))
    assert summary["ner_steps"] == 150 and summary["lm_steps"] == 150
    predicted = model.predict(torch.from_numpy(vocabulary.encode(sentence, "en")).unsqueeze(0))[0]
    assert predicted.tolist() == ner[0][1].tolist()


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="regime must be one of"):
        MultitaskBweSettings(regime="joint")
    with pytest.raises(ValueError, match="alpha must be in"):
        MultitaskBweSettings(alpha=1.5)
    with pytest.raises(ValueError, match="ner_model must be one of"):
        MultitaskBweSettings(ner_model="crf")


def _record_lm_updates(model: MultitaskBwe) -> list:
    """Make ``model.lm_update`` append (Λ's W as it stands, the pretraining flag) at every call."""
    seen = []
    original = model.lm_update

    def recording_lm_update(batch, learning_rate, pretraining=False):
        seen.append((model.tag_weights.detach().clone(), pretraining))
        return original(batch, learning_rate, pretraining)

    model.lm_update = recording_lm_update
    return seen


def test_baseline_pretrains_then_fits_the_tags_over_a_fixed_space():
    model = _model("baseline", subsample=0.0, dropout=0.0)
    vocabulary = model.vocabulary
    ner = [(vocabulary.encode(EN[:3], "en"), np.array([1, 0, 0]))]
    pairs = [(vocabulary.encode(EN, "en"), vocabulary.encode(ES, "es"))]
    seen = _record_lm_updates(model)
    weights = model.tag_weights.detach().clone()
    summary = train_multitask_bwe(model, ner, pairs, TrainingSettings(update_pairs=20))
    assert summary["lm_steps"] == 20 and summary["ner_steps"] == 20
    assert all(torch.equal(w, weights) for w, _ in seen)  # every Lm step came before any Ln step
    assert not torch.equal(model.tag_weights.detach(), weights)


def test_initial_rows_project_both_languages_with_one_pca_and_keep_their_alignment():
    vocabulary = _vocabulary()
    rng = np.random.default_rng(0)
    english_words = ["john", "John", "said", "paris", "unseen"]
    english = rng.standard_normal((5, 6))
    rotation = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    spanish_words = ["john", "dijo", "paris"]
    spanish = english[[0, 2, 3]] + 0.0  # the same points: perfectly aligned
    rows, values = initial_rows(vocabulary, {"en": (english_words, english @ rotation), "es": (spanish_words, spanish @ rotation)}, 3)
    row = vocabulary.row
    assert rows.tolist() == [row("en", "john"), row("en", "said"), row("en", "paris"),
                             row("es", "john"), row("es", "dijo"), row("es", "paris")]  # "John": a second spelling, skipped
    assert values.shape == (6, 3) and values.dtype == np.float32
    np.testing.assert_allclose(values[:3], values[3:], atol=1e-6)  # aligned words stay together
    model = _model("hfj", dim=3)
    model.set_rows(rows, values)
    np.testing.assert_array_equal(model.embeddings.detach().numpy()[rows], values)
    with pytest.raises(ValueError, match="shape"):
        model.set_rows(rows, values[:, :2])
    with pytest.raises(ValueError, match="no vocabulary word"):
        initial_rows(vocabulary, {"en": (["unseen"], english[:1])}, 1)


def test_pretraining_takes_lm_steps_alone_before_the_joint_schedule():
    model = _model("hfj", subsample=0.0, dropout=0.0)
    vocabulary = model.vocabulary
    ner = [(vocabulary.encode(EN[:3], "en"), np.array([1, 0, 0]))]
    pairs = [(vocabulary.encode(EN, "en"), vocabulary.encode(ES, "es"))]
    _trained_context(model)
    english = model.source_rows
    english_before = model.embeddings.detach()[english].clone()
    seen = _record_lm_updates(model)
    weights = model.tag_weights.detach().clone()
    summary = train_multitask_bwe(model, ner, pairs, TrainingSettings(update_pairs=5, pretrain_pairs=7))
    weights_at_lm_steps = [w for w, _ in seen]
    assert [pretraining for _, pretraining in seen] == [True] * 7 + [False] * 5
    assert not torch.equal(model.embeddings.detach()[english], english_before)  # pretraining trains English rows
    assert summary["lm_steps"] == 12 and summary["ner_steps"] == 5
    assert all(torch.equal(w, weights) for w in weights_at_lm_steps[:7])  # the 7 Lm steps alone come first
    assert not torch.equal(weights_at_lm_steps[7], weights)  # the first joint Lm step follows an Ln step
