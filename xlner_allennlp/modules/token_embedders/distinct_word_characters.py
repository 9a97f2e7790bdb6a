"""The `xlner_character_encoding` token embedder: allennlp's `character_encoding`, run once per
distinct word of the batch."""
import torch
from allennlp.modules.token_embedders import TokenCharactersEncoder, TokenEmbedder

from xlner_allennlp.modules.distinct_words import encode_distinct_words


@TokenEmbedder.register("xlner_character_encoding")
class DistinctWordCharactersEncoder(TokenCharactersEncoder):
    """
    allennlp's `TokenCharactersEncoder` (`character_encoding`): embeds each token's characters,
    encodes them with a `Seq2VecEncoder` and applies dropout to the encodings, with the same
    constructor, parameters and state-dict keys (archives of either load into the other). The
    encoder runs once per distinct word of the batch instead of once per token
    (`encode_distinct_words`); outputs and gradients are the per-token ones. Dropout is drawn
    per token, after the copy, as in `character_encoding`.

    Registered as a `TokenEmbedder` with name "xlner_character_encoding".

    # Parameters

    embedding : `Embedding`, required
        The character embeddings.
    encoder : `Seq2VecEncoder`, required
        Encodes a word's embedded characters `(num_words, num_characters, dim)` given their mask.
    dropout : `float`, optional (default = `0.0`)
        Dropout on the words' encodings.
    """

    def forward(self, token_characters: torch.Tensor) -> torch.Tensor:
        """Encodings `(batch, num_tokens, encoding_dim)` of character ids
        `(batch, num_tokens, num_characters)`."""
        embedding, encoder = self._embedding._module, self._encoder._module

        def encode(characters: torch.Tensor) -> torch.Tensor:
            return encoder(embedding(characters), characters != 0)

        return self._dropout(encode_distinct_words(token_characters, encode))
