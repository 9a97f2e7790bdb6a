"""Training and decoding speed of the `xlner_crf_tagger` as configured here ("fast": our batched
CRF, the `xlner_character_encoding` embedder, which encodes each distinct word of a batch once,
the `xlner_lstm` encoders, which run on the padded batch with a hand-written backward, and
`FastDropout`) against the same model with allennlp's stock parts ("allennlp":
`ConditionalRandomField`, the per-token `character_encoding`, allennlp's packed `lstm` encoders
and torch's dropout). With `--tied` both use the `xlner_tied_lstm` encoders.

Both taggers (Lample et al.: 300-d word vectors, character BiLSTM 25/25, word BiLSTM 100, CRF)
start from the same weights and run on the same batches of real English CoNLL-2003 training
sentences. Four measurements, each interleaved batch by batch (the two implementations take turns,
first one then the other, so that load from other processes hits both alike):

* tagger training: forward with gold tags (loss, Viterbi for the metrics), backward, SGD step;
* tagger decoding: eval-mode forward without tags (Viterbi paths and their confidence, which
  both compute with the same log-partition function);
* CRF log-likelihood: forward and backward of the CRF alone on the tagger's logits;
* CRF decoding: `viterbi_tags` alone on the same logits.

Prints a table of tokens per second with the machine's load average, and appends the numbers as
one record (commit, command, settings, machine, date) to ``benchmarks/results/crf_speed.jsonl``
(see ``benchmarks/records.py``). The CRF-only rows also check that both give the same paths and
log-likelihoods, and the first training batch that both give the same loss.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/crf_speed.py --data ../shared/data --sentences 2000 --batch-size 16
"""
import argparse
import os
import random
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.records import Recorder, results_path  # noqa: E402
from xlner_allennlp.data_layout import data_root, path as data_path  # noqa: E402

IMPLEMENTATIONS = ("allennlp", "fast")
DROPOUT = 0.5  # the configs' (training_config/common.libsonnet)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=data_root(), help="data root (default: $XLNER_DATA, else the layout's)")
    parser.add_argument("--sentences", type=int, default=2000, help="first N sentences of eng.train")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--label-encoding", choices=["BIOUL", "IOB2"], default="BIOUL")
    parser.add_argument("--vectors", choices=["pretrained", "random"], default="pretrained",
                        help="word embedding initialised from emb/en.npy, or random of the same size")
    parser.add_argument("--tied", action="store_true", help="xlner_tied_lstm encoders instead of BiLSTMs")
    parser.add_argument("--crf-repeats", type=int, default=3, help="passes over the batches for the CRF-only rows")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--output", default=results_path("crf_speed"), help="records file (appended to)")
    return parser.parse_args()


def read_batches(args: argparse.Namespace):
    """Instances of the first `--sentences` training sentences, their vocabulary, and the batches
    (shuffled once, as tensor dicts) that every measurement uses."""
    from allennlp.data import Batch, Vocabulary

    from xlner_allennlp.data.dataset_readers.conll import ConllReader

    path = data_path("en", "train", args.data)
    if not os.path.isfile(path):
        sys.exit(f"crf_speed: {path} not found; set --data or XLNER_DATA to the data directory")
    reader = ConllReader(label_encoding=args.label_encoding, language="en", max_instances=args.sentences)
    instances = list(reader.read(path))
    vocab = Vocabulary.from_instances(instances)
    random.Random(args.seed).shuffle(instances)
    batches = []
    for start in range(0, len(instances), args.batch_size):
        batch = Batch(instances[start : start + args.batch_size])
        batch.index_instances(vocab)
        batches.append(batch.as_tensor_dict())
    return instances, vocab, batches


def word_vectors(vocab, args: argparse.Namespace):
    """Initial 300-d word-embedding weights over the vocabulary: rows of the words found in
    emb/en.npy (with `--vectors pretrained`), small random values elsewhere; and how many were found."""
    import torch

    from xlner_allennlp.alignment import load_vectors

    vectors = load_vectors(data_path("en", "vectors", args.data))
    generator = torch.Generator().manual_seed(args.seed)
    weight = torch.randn(vocab.get_vocab_size("tokens"), vectors.dim, generator=generator) * 0.1
    found = 0
    if args.vectors == "pretrained":
        matrix = torch.from_numpy(vectors.matrix.astype("float32"))
        for index, word in vocab.get_index_to_token_vocabulary("tokens").items():
            row = vectors.index.get(word)
            if row is not None:
                weight[index] = matrix[row]
                found += 1
    return weight, found


def build_taggers(vocab, args: argparse.Namespace):
    """Two taggers with the same weights that differ only in their implementations: the CRF, the
    character embedder (per token, or per distinct word), the LSTM encoders (allennlp's `lstm`
    or `xlner_lstm`) and the dropout (torch's or `FastDropout`)."""
    import torch
    from allennlp.modules.seq2seq_encoders import LstmSeq2SeqEncoder
    from allennlp.modules.seq2vec_encoders import LstmSeq2VecEncoder
    from allennlp.modules.text_field_embedders import BasicTextFieldEmbedder
    from allennlp.modules.token_embedders import Embedding, TokenCharactersEncoder

    from xlner_allennlp.models.crf_tagger import CrfTagger
    from xlner_allennlp.modules.seq2seq_encoders import FastLstmSeq2SeqEncoder, TiedLstmSeq2SeqEncoder
    from xlner_allennlp.modules.seq2vec_encoders import FastLstmSeq2VecEncoder, TiedLstmSeq2VecEncoder
    from xlner_allennlp.modules.token_embedders import DistinctWordCharactersEncoder

    character_embedders = {"allennlp": TokenCharactersEncoder, "fast": DistinctWordCharactersEncoder}
    word_encoders = {"allennlp": LstmSeq2SeqEncoder, "fast": FastLstmSeq2SeqEncoder}
    character_encoders = {"allennlp": LstmSeq2VecEncoder, "fast": FastLstmSeq2VecEncoder}

    weight, found = word_vectors(vocab, args)
    taggers = {}
    for crf in IMPLEMENTATIONS:
        words = Embedding(embedding_dim=weight.size(1), num_embeddings=weight.size(0), weight=weight.clone())
        characters = Embedding(embedding_dim=25, num_embeddings=vocab.get_vocab_size("token_characters"))
        if args.tied:
            char_encoder, encoder = TiedLstmSeq2VecEncoder(25, 25), TiedLstmSeq2SeqEncoder(weight.size(1) + 50, 100)
        else:
            char_encoder = character_encoders[crf](25, 25, bidirectional=True)
            encoder = word_encoders[crf](weight.size(1) + 50, 100, bidirectional=True)
        embedder = BasicTextFieldEmbedder(
            {"tokens": words, "token_characters": character_embedders[crf](characters, char_encoder)}
        )
        taggers[crf] = CrfTagger(
            vocab, embedder, encoder, label_encoding=args.label_encoding, dropout=DROPOUT, crf=crf
        )
    # allennlp's CrfTagger draws its dropout masks with torch's own dropout.
    taggers["allennlp"].dropout = torch.nn.Dropout(DROPOUT)
    taggers["fast"].load_state_dict(taggers["allennlp"].state_dict())
    return taggers, found


def interleaved(batches: List[Any], steps: Dict[str, Callable[[Any], None]], tokens: List[int]) -> Dict[str, Any]:
    """Runs `steps[impl](batch)` for every batch, implementations alternating which goes first;
    returns total seconds, tokens/s and the median per-batch speed-up of "fast" over "allennlp"."""
    seconds = {name: 0.0 for name in steps}
    ratios = []
    for number, batch in enumerate(batches):
        order = list(steps) if number % 2 == 0 else list(reversed(list(steps)))
        taken = {}
        for name in order:
            start = time.perf_counter()
            steps[name](batch)
            taken[name] = time.perf_counter() - start
            seconds[name] += taken[name]
        ratios.append(taken["allennlp"] / taken["fast"])
    total_tokens = sum(tokens)
    return {
        "seconds": seconds,
        "tokens": total_tokens,
        "tokens_per_second": {name: total_tokens / value for name, value in seconds.items()},
        "speedup": seconds["allennlp"] / seconds["fast"],
        "median_batch_speedup": statistics.median(ratios),
    }


def measure(args: argparse.Namespace) -> Dict[str, Any]:
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    instances, vocab, batches = read_batches(args)
    taggers, found = build_taggers(vocab, args)
    optimizers = {name: torch.optim.SGD(model.parameters(), lr=0.1) for name, model in taggers.items()}
    tokens = [int(batch["tokens"]["tokens"]["tokens"].ne(0).sum()) for batch in batches]
    untagged = [{key: value for key, value in batch.items() if key != "tags"} for batch in batches]
    results: Dict[str, Any] = {}

    # Same model: the loss of the first batch without dropout, before any step.
    with torch.no_grad():
        first_losses = {}
        for name, model in taggers.items():
            model.eval()
            first_losses[name] = float(model(**batches[0])["loss"])
    first_loss_difference = abs(first_losses["fast"] - first_losses["allennlp"]) / abs(first_losses["allennlp"])

    # Warm-up (allocator, first-call overheads) on two batches, not timed.
    for model in taggers.values():
        model.train()
        for batch in batches[:2]:
            model(**batch)["loss"].backward()
        model.zero_grad()

    def train_step(name: str) -> Callable[[Any], None]:
        model, optimizer = taggers[name], optimizers[name]

        def step(batch):
            optimizer.zero_grad()
            model(**batch)["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()

        return step

    for model in taggers.values():
        model.train()
    results["tagger_training"] = interleaved(batches, {name: train_step(name) for name in IMPLEMENTATIONS}, tokens)

    def decode_step(name: str) -> Callable[[Any], None]:
        model = taggers[name]

        def step(batch):
            with torch.no_grad():
                model(**batch)

        return step

    for model in taggers.values():
        model.eval()
    results["tagger_decoding"] = interleaved(untagged, {name: decode_step(name) for name in IMPLEMENTATIONS}, tokens)

    # The CRF alone, on the logits of the (now identical-architecture) fast tagger.
    reference = taggers["fast"]
    crf_inputs: List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    with torch.no_grad():
        for batch in batches:
            mask = batch["tokens"]["tokens"]["tokens"].ne(0)
            logits = reference.tag_logits(batch["tokens"], mask, ["en"] * mask.size(0))
            crf_inputs.append((logits, batch["tags"], mask))
    crfs = {name: taggers[name].crf for name in IMPLEMENTATIONS}
    crfs["allennlp"].load_state_dict(crfs["fast"].state_dict())

    def likelihood_step(name: str) -> Callable[[Any], None]:
        def step(inputs):
            logits, tags, mask = inputs
            logits = logits.detach().requires_grad_()
            crfs[name].zero_grad()
            crfs[name](logits, tags, mask).backward()

        return step

    def viterbi_step(name: str) -> Callable[[Any], None]:
        def step(inputs):
            crfs[name].viterbi_tags(inputs[0], inputs[2])

        return step

    repeated = crf_inputs * args.crf_repeats
    results["crf_log_likelihood"] = interleaved(
        repeated, {name: likelihood_step(name) for name in IMPLEMENTATIONS}, tokens * args.crf_repeats
    )
    results["crf_decoding"] = interleaved(
        repeated, {name: viterbi_step(name) for name in IMPLEMENTATIONS}, tokens * args.crf_repeats
    )

    # Same results, on every batch.
    different_paths, largest_difference = 0, 0.0
    with torch.no_grad():
        for logits, tags, mask in crf_inputs:
            paths = {name: crfs[name].viterbi_tags(logits, mask) for name in IMPLEMENTATIONS}
            different_paths += sum(a[0] != b[0] for a, b in zip(paths["fast"], paths["allennlp"]))
            values = {name: float(crfs[name](logits, tags, mask)) for name in IMPLEMENTATIONS}
            difference = abs(values["fast"] - values["allennlp"]) / abs(values["allennlp"])
            largest_difference = max(largest_difference, difference)
    results["check"] = {
        "sentences_with_different_paths": different_paths,
        "largest_relative_log_likelihood_difference": largest_difference,
        "first_batch_relative_loss_difference": first_loss_difference,
    }
    results["setup"] = {
        "sentences": len(instances),
        "batches": len(batches),
        "batch_size": args.batch_size,
        "tokens": sum(tokens),
        "mean_sentence_length": sum(tokens) / len(instances),
        "max_sentence_length": max(len(instance["tokens"]) for instance in instances),
        "num_tags": vocab.get_vocab_size("labels"),
        "label_encoding": args.label_encoding,
        "vectors": args.vectors,
        "pretrained_rows_found": found,
        "vocabulary": vocab.get_vocab_size("tokens"),
        "tied": args.tied,
        "threads": args.threads,
        "crf_repeats": args.crf_repeats,
        "torch": torch.__version__,
    }
    return results


ROWS = [
    ("tagger_training", "tagger training (fwd+bwd+step)"),
    ("tagger_decoding", "tagger decoding (eval fwd)"),
    ("crf_log_likelihood", "CRF log-likelihood fwd+bwd"),
    ("crf_decoding", "CRF Viterbi decoding"),
]


def table(results: Dict[str, Any]) -> str:
    lines = [
        f"{'measurement':34} {'allennlp tok/s':>15} {'fast tok/s':>12} {'speed-up':>9} {'median/batch':>13}",
        "-" * 87,
    ]
    for key, label in ROWS:
        row = results[key]
        speed = row["tokens_per_second"]
        lines.append(
            f"{label:34} {speed['allennlp']:15,.0f} {speed['fast']:12,.0f} "
            f"{row['speedup']:8.2f}x {row['median_batch_speedup']:12.2f}x"
        )
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    recorder = Recorder("crf_speed", vars(args), args.output)
    load_before = os.getloadavg()
    started = time.time()
    results = measure(args)
    load_after = os.getloadavg()
    setup = results.pop("setup")
    print(
        f"{setup['sentences']} sentences, {setup['tokens']} tokens, {setup['batches']} batches of "
        f"{setup['batch_size']}, {setup['num_tags']} tags ({setup['label_encoding']}), {args.vectors} vectors "
        f"({setup['pretrained_rows_found']}/{setup['vocabulary']} words found), threads={args.threads}, "
        f"tied={args.tied}"
    )
    print(table(results))
    check = results["check"]
    print(
        f"same paths: {setup['sentences'] - check['sentences_with_different_paths']}/{setup['sentences']}"
        f" sentences; largest relative log-likelihood difference "
        f"{check['largest_relative_log_likelihood_difference']:.2e}; first-batch relative loss difference "
        f"{check['first_batch_relative_loss_difference']:.2e}"
    )
    print(
        "load average (1/5/15 min) before {:.2f}/{:.2f}/{:.2f}, after {:.2f}/{:.2f}/{:.2f} on {} CPUs".format(
            *load_before, *load_after, os.cpu_count()
        )
    )
    recorder.record({}, {
        **results, "setup": setup, "load_before": list(load_before), "load_after": list(load_after),
        "wall_seconds": time.time() - started,
    })
    print(f"record appended to {args.output}")


if __name__ == "__main__":
    main()
