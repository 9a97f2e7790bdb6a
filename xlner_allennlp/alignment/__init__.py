"""Word-vector space alignment: plain numpy/torch, no AllenNLP dependency.

Typical use::

    from xlner_allennlp.alignment import align_files, load_alignment, load_vectors

    align_files("es.npy", "en.npy", "multistep", "artifacts/es-en", dictionary="es-en.0-5000.txt",
                refinement_iterations=3)
    alignment = load_alignment("artifacts/es-en")
    spanish = load_vectors("es.npy")
    shared = alignment.apply(spanish.matrix, side="mapped")        # Spanish in the English space
    english = alignment.apply(load_vectors("en.npy").matrix, side="reference")
    rows = alignment.apply_words(["casa", "perro"], spanish)       # single words
    alignment.apply_file("es.npy", "es.mapped.npy")                 # a whole vector file

An artifact's two sides are ``mapped`` (the language the mapping applies to) and ``reference``
(the space it is mapped into). Methods (:data:`METHODS`, a registry; :func:`describe_methods`
lists each one's settings and defaults): ``least-squares``, ``procrustes``, ``procrustes-refine``,
``multistep`` (supervised; the multi-step framework of Artetxe et al. 2018, the default supervised
method, which also maps the reference side), ``adversarial`` and ``self-learning`` (unsupervised;
``self-learning`` also accepts a seed dictionary as its initialization).
:func:`align_to_pivot` maps several languages into one space. :func:`evaluate_bli` / :func:`evaluate_files` measure bilingual lexicon induction;
:func:`translate_words` gives each word's nearest translations (NN or CSLS) in the aligned space.
"""
from xlner_allennlp.alignment.align import DEFAULT_NORMALIZATION, align
from xlner_allennlp.alignment.artifact import (
    SIDES,
    Alignment,
    ArtifactError,
    load_alignment,
    save_alignment,
    write_vectors,
)
from xlner_allennlp.alignment.assessment import assess_alignment
from xlner_allennlp.alignment.dictionary import (
    DictionaryError,
    IndexedDictionary,
    identical_seed,
    index_dictionary,
    load_dictionary,
    numerals_seed,
    read_dictionary,
)
from xlner_allennlp.alignment.evaluation import evaluate_bli
from xlner_allennlp.alignment.methods import (
    METHODS,
    AlignmentError,
    MethodFit,
    describe_methods,
    register_method,
    settings_for,
)
from xlner_allennlp.alignment.normalization import Normalization, parse_steps, unit_rows
from xlner_allennlp.alignment.pipeline import (
    Translation,
    align_files,
    align_to_pivot,
    artifact_vectors,
    evaluate_alignment,
    evaluate_files,
    translate_words,
)
from xlner_allennlp.alignment.retrieval import csls_knn, knn, retrieve
from xlner_allennlp.alignment.vectors import VectorFileError, WordVectors, load_vectors, load_vocab
