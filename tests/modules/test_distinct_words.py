import torch

from xlner_allennlp.modules.distinct_words import distinct_row_ids, encode_distinct_words


def test_each_distinct_row_is_encoded_once_and_copied_to_its_positions():
    characters = torch.tensor([[[1, 2], [3, 0], [1, 2]], [[3, 0], [0, 0], [1, 2]]])
    seen = []

    def encode(rows):
        seen.append(rows.clone())
        return rows.float().sum(1, keepdim=True) * torch.tensor([1.0, -1.0])

    encoded = encode_distinct_words(characters, encode)
    assert len(seen) == 1 and seen[0].size(0) == 3  # [1, 2], [3, 0], [0, 0]
    expected = characters.float().sum(-1, keepdim=True) * torch.tensor([1.0, -1.0])
    assert torch.equal(encoded, expected)


def test_distinct_row_ids_match_row_equality():
    generator = torch.Generator().manual_seed(0)
    rows = torch.randint(0, 3, (200, 4), generator=generator)
    ids = distinct_row_ids(rows)
    same_row = (rows.unsqueeze(0) == rows.unsqueeze(1)).all(-1)
    assert torch.equal(ids.unsqueeze(0) == ids.unsqueeze(1), same_row)
    assert int(ids.max()) + 1 == torch.unique(rows, dim=0).size(0)
