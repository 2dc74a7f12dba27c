"""Replies are placed into themes by their words exactly as scikit-learn's transform reads them."""

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import sklearn
from sklearn import metrics
from sklearn.feature_extraction.text import TfidfVectorizer

from exporters import theme_fit

PLANTED = {
    "buses": "buses late drivers routes stops timetable",
    "rents": "rents landlords deposits homes tenants repairs",
    "parks": "parks trees benches playgrounds grass paths",
}
# Words that a cut anywhere but at a space, or lowercasing other than Python's, reads wrongly.
TRICKY = [
    "ΟΔΟΣ ΟΔΟΣ.ΟΔΟΣ ΣΑΣ",  # a final sigma: its lower case depends on what follows it
    "buses[email]late [url]parks",  # redaction marks end words
    "rents1 rents_homes café cafe\u0301 İstanbul ΟΔΟΣ",
    "tabs\tand\nnewlines\u00a0and  double  spaces ",
    "",
    "   ",
    "42 7 a b",
    "Rents RENTS rents, parks; PARKS!",
    "buses don't can't won't it's",
]


def _sample() -> list[str]:
    texts = []
    for n in range(30):
        for words in PLANTED.values():
            vocabulary = words.split()
            texts.append(" ".join(vocabulary[(n + i) % 6] for i in range(4)))
    return texts + TRICKY


def test_placing_reads_every_reply_as_the_fitted_vectoriser_transforms_it() -> None:
    sample = _sample()
    placing = theme_fit.fit(sample)
    assert placing is not None
    reference = TfidfVectorizer(
        stop_words="english", token_pattern=r"(?u)\b[^\W\d_]{2,}\b", sublinear_tf=True
    ).fit(theme_fit._words(sample))
    assert {"οδοσ", "οδος", "stanbul", "café"} <= set(reference.vocabulary_)
    texts = [*TRICKY, *reversed(sample[:12]), "ΣΑΣ.ΟΔΟΣ ΟΔΟΣ[phone]ΟΔΟΣ"]
    expected = reference.transform(theme_fit._words(texts)).tocsr()
    expected.sort_indices()
    found = placing.tfidf(pa.array(texts, pa.string()))
    assert found.shape == expected.shape
    assert found.indptr.tolist() == expected.indptr.tolist()
    assert found.indices.tolist() == expected.indices.tolist()
    assert found.data.tolist() == expected.data.tolist()


def test_the_silhouette_works_on_a_few_mib_of_distances_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # scikit-learn's default (1 GiB) made the sample's whole distance matrix at once, the
    # analyses' process's peak; the scores are the same, bit for bit.
    memory: list[int] = []
    score = metrics.silhouette_score

    def noting(*args: Any, **kwargs: Any) -> float:
        memory.append(sklearn.get_config()["working_memory"])
        return float(score(*args, **kwargs))

    monkeypatch.setattr(metrics, "silhouette_score", noting)
    assert theme_fit.fit(_sample()) is not None
    assert memory, "the number of themes was chosen by silhouette"
    assert max(memory) <= 16


def test_each_themes_replies_are_numbered_in_four_bytes_each() -> None:
    # A theme's reply numbers are held to the end of the export (8 MB at 1,000,000 replies
    # as 64-bit numbers).
    placing = theme_fit.fit(_sample())
    assert placing is not None
    placing.place(pa.array(_sample() * 50, pa.string()))
    placed = placing.themes()
    assert placed and all(rows.dtype == np.int32 for _, rows in placed)
    assert sum(len(rows) for _, rows in placed) > len(_sample()) * 40
