// Shared settings of the NER experiments. Each experiment file states only what differs.
//
// Only machine paths and the target language come from the environment (AllenNLP hands every
// environment variable to jsonnet as an external variable; a missing one is an error naming it):
//   XLNER_DATA        root of the data (the Makefile passes the data layout's root)
//   XLNER_TARGET      target language: es, nl, de or fr
//   XLNER_ALIGNMENTS  directory of the alignment artifacts "<lang>-en" (aligned configs only)
// Every hyperparameter is a plain value of the config, overridable with -o, e.g.
//   -o '{"trainer.num_epochs": 1, "dataset_reader.max_instances": 500}'   (a short run)
//   -o '{"random_seed": 7, "numpy_seed": 7, "pytorch_seed": 7}'            (another seed)
// Model selection is on the English dev set (zero-resource). To select on the target dev set,
// override the validation data and its reader's language and encoding, e.g. for Spanish:
//   -o '{"validation_data_path": "<data>/ner/es/conll2002/esp.testa",
//        "validation_dataset_reader.language": "es", "validation_dataset_reader.encoding": "utf-8"}'
local data = std.extVar('XLNER_DATA');
local target = std.extVar('XLNER_TARGET');
local alignments = std.extVar('XLNER_ALIGNMENTS');

// The NER files, vectors and unlabelled text of each language: the data layout (one home, shared
// with xlner_allennlp.data_layout), its file names joined to the data root.
local layout = import '../xlner_allennlp/data_layout.json';
local corpora = {
  [language]: layout.languages[language] + {
    [name]: data + '/' + layout.languages[language][name]
    for name in ['train', 'dev', 'test', 'unlabelled', 'vectors', 'lm_train', 'lm_heldout']
    if std.objectHas(layout.languages[language], name)
  }
  for language in std.objectFields(layout.languages)
};
local targets = [language for language in std.objectFields(corpora) if language != 'en'];

local check_target =
  if std.member(targets, target) then target
  else error 'XLNER_TARGET must be one of ' + std.join(', ', targets) + '; got "' + target + '"';

// A list of target languages (configs with several, e.g. cross_augmented_multi), checked.
local check_targets(chosen) =
  if std.length(chosen) > 0 && std.length(std.set(chosen)) == std.length(chosen) &&
     std.all([std.member(targets, language) for language in chosen]) then chosen
  else error 'targets must be distinct languages of ' + std.join(', ', targets) + '; got ' + std.toString(chosen);

// Sizes: the fastText vectors of the data (the aligned embedder keeps their dimension), the
// character embedding and the hidden sizes of the two BiLSTMs (Lample et al. 2016).
local vector_dim = 300;
local char_embedding_dim = 25;
local char_hidden = 25;
local word_hidden = 100;
local seed = 13;

// The per-language vector table shared by the word indexer and the embedder, for English and the
// target languages `chosen` (by default XLNER_TARGET alone). With `aligned`, each target language
// is mapped into English space by its artifact <target>-en, and English takes the first target's
// artifact's reference-side placement (the same in every artifact when it only normalizes English,
// as procrustes-refine and self-learning do; the aligned embedder refuses artifacts that place
// English differently); without it, every language is unit-normalized raw vectors.
local languages(aligned, chosen=[check_target]) = {
  en: { vectors: corpora.en.vectors } +
      (if aligned then { alignment: alignments + '/' + chosen[0] + '-en', side: 'reference' } else {}),
} + {
  [language]: { vectors: corpora[language].vectors } +
              (if aligned then { alignment: alignments + '/' + language + '-en', side: 'mapped' } else {})
  for language in chosen
};

local characters = { type: 'characters', min_padding_length: 3 };
local char_embedding = { embedding_dim: char_embedding_dim, vocab_namespace: 'token_characters' };

local reader(language, aligned, chosen) = {
  type: 'xlner_conll',
  language: language,
  encoding: corpora[language].encoding,
  label_encoding: 'BIOUL',
  token_indexers: {
    tokens: { type: 'xlner_aligned_word', languages: languages(aligned, chosen) },
    token_characters: characters,
  },
};

// The English training reader; max_instances caps the training sentences (null: all of them).
local train_reader(aligned, chosen) = reader('en', aligned, chosen) + { max_instances: null };

// Both kinds of BiLSTM (tied or not) output both directions: 2 * hidden features per step.
// 'xlner_lstm' is allennlp's 'lstm' (same parameters and results), trained about twice as fast.
local bilstm(tied, input_size, hidden_size) =
  if tied then { type: 'xlner_tied_lstm', input_size: input_size, hidden_size: hidden_size }
  else { type: 'xlner_lstm', input_size: input_size, hidden_size: hidden_size, bidirectional: true };

local char_encoder(tied) = bilstm(tied, char_embedding_dim, char_hidden);

// The word BiLSTM reads a word's (aligned) vector next to its character encoding.
local word_encoder(tied) = bilstm(tied, vector_dim + 2 * char_hidden, word_hidden);

{
  data: data,
  target: check_target,
  check_targets: check_targets,
  corpora: corpora,
  languages: languages,
  characters: characters,
  char_embedding: char_embedding,
  char_hidden: char_hidden,
  word_hidden: word_hidden,
  bilstm: bilstm,
  char_encoder: char_encoder,
  word_encoder: word_encoder,

  // Lample et al. (2016): char BiLSTM + word vector -> word BiLSTM -> dense -> CRF.
  crf_tagger(aligned, tied):: {
    type: 'xlner_crf_tagger',
    label_encoding: 'BIOUL',
    loss_reduction: 'mean',
    dropout: 0.5,
    text_field_embedder: {
      token_embedders: {
        tokens: { type: 'xlner_aligned_embedding', languages: languages(aligned) },
        token_characters: {
          type: 'xlner_character_encoding',  // allennlp's character_encoding, once per distinct word
          embedding: char_embedding,
          encoder: char_encoder(tied),
        },
      },
    },
    encoder: word_encoder(tied),
  },

  // Train on English labels; validate on the English dev set (see the top for the target's). The
  // readers know the target languages `chosen` (by default XLNER_TARGET alone).
  experiment(model, aligned, chosen=[check_target]):: {
    random_seed: seed,
    numpy_seed: seed,
    pytorch_seed: seed,
    dataset_reader: train_reader(aligned, chosen),
    validation_dataset_reader: reader('en', aligned, chosen),
    train_data_path: corpora.en.train,
    validation_data_path: corpora.en.dev,
    datasets_for_vocab_creation: ['train'],
    model: model,
    data_loader: { batch_sampler: { type: 'bucket', batch_size: 16, sorting_keys: ['tokens'] } },
    // Validation batches in file order: a bucket sampler draws from Python's random generator even
    // unshuffled (its padding noise), and `--recover` skips the validation of the epochs it replays,
    // so a resumed run would bucket its training batches differently from an uninterrupted one.
    validation_data_loader: { batch_size: 64 },
    // Bari et al. (2020) use SGD with lr 0.1 decayed by 0.01 per epoch, clipping 5.0, batch 16. We keep
    // the decay, clipping and batch size but use Adam (lr 0.002): see the README, "Changes from the paper".
    trainer: {
      optimizer: { type: 'adam', lr: 0.002 },
      learning_rate_scheduler: { type: 'xlner_inverse_time_decay', decay: 0.01 },
      grad_clipping: 5.0,
      num_epochs: 12,
      validation_metric: '+f1-measure-overall',
      checkpointer: { keep_most_recent_by_count: 1 },
      // Torch's and numpy's random states in the checkpoints: `--recover` then draws the uninterrupted run's dropout masks.
      callbacks: [{ type: 'xlner_random_state' }],
      cuda_device: -1,
    },
  },
}
