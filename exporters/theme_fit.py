"""Themes' clustering, run in the analyses' own process (``exporters.analyses``).

TF-IDF of the replies' words (English stop words and redaction marks left out; many words
reduced to 100 dimensions by LSA), then k-means with a fixed random state, the number of themes
the one of 2 to 8 whose clusters are best separated (silhouette, cosine), all fitted on a fixed
sample (``fit``). Every reply then joins its nearest theme a batch at a time (``Placing``):
a batch is cut at its spaces by Arrow, and only its distinct pieces go through scikit-learn's
analyser, so placing costs no Python per reply and gives the words ``transform`` would.
"""

from __future__ import annotations

import re
import warnings
from array import array
from collections.abc import Callable
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from threadpoolctl import threadpool_limits

from exporters.redact import KINDS

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix, spmatrix
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

MOST_THEMES = 8
NAME_WORDS = 3
RANDOM_STATE = 0
# The silhouette of more replies than this is estimated from a fixed sample of them.
SILHOUETTE_SAMPLE = 2000
# MiB of distances the silhouette works on at once (scikit-learn's default is 1024, which made
# the sample's whole distance matrix, and copies of it, the analyses' process's peak).
SILHOUETTE_MEMORY = 16
# More distinct words than this are reduced to this many dimensions (LSA) before clustering.
DIMENSIONS = 100
# The libraries ``fit`` and ``_points`` import when called (the export's own process never
# imports them), for the analyses' process to load ahead (``exporters.analyses``).
LIBRARIES = (
    "scipy.sparse",
    "sklearn.cluster",
    "sklearn.decomposition",
    "sklearn.feature_extraction.text",
    "sklearn.metrics",
    "sklearn.preprocessing",
)
_MARKS = re.compile(r"\[(?:" + "|".join(KINDS) + r")\]")
# A theme's words, and its replies (numbered in the order placed) nearest its centre first.
Placed = tuple[tuple[str, ...], np.ndarray]


def _words(texts: list[str]) -> list[str]:
    return [_MARKS.sub(" ", t) for t in texts]


class Placing:
    """The fitted themes; ``place`` gives replies their theme, ``themes`` their order."""

    def __init__(
        self,
        counter: CountVectorizer,
        weights: TfidfTransformer,
        points: Callable[[spmatrix], np.ndarray],
        model: KMeans,
        centres: np.ndarray,
        named: dict[int, tuple[str, ...]],
    ) -> None:
        self._counter, self._weights, self._points = counter, weights, points
        self._model, self._centres, self._named = model, centres, named
        self._analyse = counter.build_analyzer()
        self._theme = array("b")  # each reply's theme; -1: no word to place it by
        self._closeness = array("d")  # each reply's closeness to its theme's centre

    def tfidf(self, texts: pa.StringArray) -> csr_matrix:
        """The TF-IDF rows of ``texts``, as the fitted vectoriser's ``transform`` gives them.

        Cutting at spaces changes no word: a space ends every token and every redaction mark,
        and lowercasing looks no further than the next space (a final sigma).
        """
        from scipy.sparse import csr_matrix

        pieces = pc.split_pattern(texts, " ")
        owners = pc.list_parent_indices(pieces).to_numpy()
        distinct = pc.dictionary_encode(pc.list_flatten(pieces))
        vocabulary = self._counter.vocabulary_
        ids = [
            [vocabulary[w] for w in self._analyse(_MARKS.sub(" ", piece)) if w in vocabulary]
            for piece in distinct.dictionary.to_pylist()
        ]
        lengths = np.fromiter(map(len, ids), np.int64, len(ids))
        known = np.fromiter(chain.from_iterable(ids), np.int64, int(lengths.sum()))
        used = distinct.indices.to_numpy()
        each = lengths[used]  # words known in each piece of the batch
        ends = np.cumsum(each)
        at = np.repeat(np.cumsum(lengths)[used] - lengths[used] - (ends - each), each)
        columns = known[at + np.arange(int(ends[-1]) if len(ends) else 0)]
        counts = csr_matrix(
            (np.ones(len(columns)), (np.repeat(owners, each), columns)),
            shape=(len(texts), len(vocabulary)),
        )
        found: csr_matrix = self._weights.transform(counts, copy=False)
        return found

    def place(self, texts: pa.StringArray) -> None:
        """Each of ``texts`` joins its nearest theme (none if it has no known word)."""
        batch = self.tfidf(texts)
        theme = np.full(len(texts), -1, np.int8)
        closeness = np.zeros(len(texts))
        worded = np.flatnonzero(batch.getnnz(axis=1))
        if len(worded):
            batch = batch[worded]
            found = self._model.predict(self._points(batch))
            theme[worded] = found
            closeness[worded] = np.asarray(batch @ self._centres.T)[np.arange(len(found)), found]
        self._theme.frombytes(theme.tobytes())
        self._closeness.frombytes(closeness.tobytes())

    def themes(self) -> list[Placed]:
        """Each theme's words and replies, nearest its centre first, in the clusters' order."""
        theme = np.frombuffer(self._theme, np.int8)
        closeness = np.frombuffer(self._closeness, np.float64)
        # Held to the end of the export: 4 bytes a reply where the numbers fit.
        kind = np.int32 if len(theme) <= np.iinfo(np.int32).max else np.int64
        placed = []
        for label, words in self._named.items():
            rows = np.flatnonzero(theme == label)
            nearest = rows[np.argsort(-closeness[rows], kind="stable")]
            placed.append((words, nearest.astype(kind)))
        return placed


def fit(sample: list[str]) -> Placing | None:
    """Themes fitted on ``sample``; none when its words do not fall into clusters."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    # scikit-learn's TfidfVectorizer in two parts, step for step (float counts, weights
    # fitted then applied in place), so that its counts can be made without it when placing.
    counter = CountVectorizer(
        stop_words="english", token_pattern=r"(?u)\b[^\W\d_]{2,}\b", dtype=np.float64
    )
    weights = TfidfTransformer(sublinear_tf=True)
    try:
        counts = counter.fit_transform(_words(sample))
    except ValueError:  # no word left but stop words
        return None
    x = weights.fit(counts).transform(counts, copy=False).tocsr()
    x = x[np.flatnonzero(x.getnnz(axis=1))]
    points = _points(x)
    model = _clusters(points(x))
    if model is None:
        return None
    sampled = model.predict(points(x))
    centres = np.zeros((model.n_clusters, x.shape[1]))
    terms = counter.get_feature_names_out()
    named = {}
    for label in sorted(set(sampled.tolist())):
        inside = sampled == label
        centres[label] = np.asarray(x[inside].mean(axis=0)).ravel()
        apart = centres[label] - np.asarray(x[~inside].mean(axis=0)).ravel()
        top = np.argsort(-apart, kind="stable")[:NAME_WORDS]
        named[label] = tuple(str(terms[i]) for i in top if apart[i] > 0)
    return Placing(counter, weights, points, model, centres, named)


def _points(x: csr_matrix) -> Callable[[spmatrix], np.ndarray]:
    """How replies become points to cluster: their TF-IDF, or its LSA when many words."""
    if x.shape[1] <= DIMENSIONS:
        return lambda batch: np.asarray(batch.toarray())
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    lsa = TruncatedSVD(DIMENSIONS, random_state=RANDOM_STATE).fit(x)
    return lambda batch: np.asarray(normalize(lsa.transform(batch)))


def _clusters(points: np.ndarray) -> KMeans | None:
    """The k-means (2 to 8 clusters) whose clusters are best apart, if any."""
    from sklearn import config_context
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    distinct = len(np.unique(points.round(9), axis=0))
    best: tuple[float, KMeans | None] = (-1.0, None)
    # One thread: k-means's OpenMP threads, spinning on a machine whose cores are busy with the
    # bot, took six times as long in the export benchmark.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # k-means warns when a k finds fewer distinct points
        for k in range(2, min(MOST_THEMES, distinct - 1) + 1):
            model = KMeans(k, n_init=3, random_state=RANDOM_STATE).fit(points)
            if len(set(model.labels_)) < 2:
                continue
            sample = min(SILHOUETTE_SAMPLE, len(points))
            with config_context(working_memory=SILHOUETTE_MEMORY):
                score = float(
                    silhouette_score(
                        points, model.labels_, metric="cosine", sample_size=sample,
                        random_state=RANDOM_STATE,
                    )
                )  # fmt: skip
            if score > best[0]:
                best = (score, model)
    return best[1]
