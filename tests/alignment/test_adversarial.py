from xlner_allennlp.alignment.align import align

from tests.alignment.conftest import make_spaces, translation_accuracy


def test_adversarial_then_refinement_recovers_a_rotation_with_shuffled_target():
    spaces = make_spaces(n=400, dim=8, noise=0.02, shuffle=True, seed=3)
    run = align(
        spaces.source, spaces.target, "adversarial",
        epochs=4, epoch_size=20000, batch_size=64, most_frequent=400, discriminator_hidden=64,
        refinement_iterations=3, refinement_vocab=400,
    )
    alignment = run.alignment
    accuracy = translation_accuracy(
        alignment.apply(spaces.source.matrix, "source"), alignment.apply(spaces.target.matrix, "target"), spaces
    )
    assert accuracy > 0.9
    assert alignment.evaluation["status"] == "ok"
    assert len(alignment.evaluation["adversarial"]["history"]) == 5
