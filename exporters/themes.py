"""Themes in a cycle's open replies, found offline, named by their words, quoted with consent.

Replies to prompts are clustered with scikit-learn alone (no network, no hosted model): TF-IDF
of their words (English stop words and redaction marks left out; many words reduced to 100
dimensions by LSA), then k-means with a fixed random state (fitted on a fixed sample of at
most 20,000 replies), the number of themes the one of 2 to 8 whose clusters are best
separated (silhouette, cosine). A theme is named by the words that set it apart most: the
highest mean weight inside it less the mean outside; those words, joined by "-", are its id.
Quotes come only from people who agreed to ``quote``, redacted as every export's text is, and only
replies that say something (``heard_card.worth_quoting``), nearest the theme's centre first,
one per person. Counts of people and replies go through the disclosure policy (``register``).

Staff rename, merge or drop themes in a TOML file (``load_edits``) that the next export
applies; a theme it names that the export does not find is an error naming the file, the
theme and what to do, never silently ignored.
"""

from __future__ import annotations

import re
import tomllib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError
from threadpoolctl import threadpool_limits

from exporters.disclosure import Disclosure, Key, Ledger
from exporters.heard_card import one_line
from exporters.redact import KINDS

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix, spmatrix
    from sklearn.cluster import KMeans

StepKey = tuple[str, str]
MOST_THEMES = 8
# Fewer open replies than this make no themes: there is nothing to set apart.
FEWEST_REPLIES = 6
NAME_WORDS = 3
QUOTES = 3
RANDOM_STATE = 0
# The silhouette of more replies than this is estimated from a fixed sample of them.
SILHOUETTE_SAMPLE = 2000
# More distinct words than this are reduced to this many dimensions (LSA) before clustering.
DIMENSIONS = 100
# k-means is fitted on at most this many replies (a fixed sample); the rest join the nearest.
FIT_SAMPLE = 20_000
_MARKS = re.compile(r"\[(?:" + "|".join(KINDS) + r")\]")
ALL_REPLIES: Key = ("themes", "replies")


@dataclass(frozen=True, slots=True)
class OpenReply:
    """A reply to a prompt, as an export may show it (redacted)."""

    ref: int  # its number in the .qdpx: the reply id, or a public export's quote number
    person: str
    step: StepKey
    text: str
    quotable: bool  # its author agreed to be quoted and it says something


@dataclass(frozen=True, slots=True)
class Theme:
    """Replies that share words, named by the words that set them apart."""

    id: str
    name: str
    words: tuple[str, ...]
    replies: tuple[OpenReply, ...]  # nearest the theme's centre first
    quotes: tuple[str, ...]

    @property
    def people(self) -> int:
        """People whose replies are in the theme."""
        return len({r.person for r in self.replies})

    def keys(self) -> tuple[Key, Key]:
        """The ledger keys of its people and replies."""
        return ("themes", self.id, "people"), ("themes", self.id, "replies")


class ThemeFileError(Exception):
    """Staff's theme file cannot be applied; the message names the file, theme and remedy."""


class ThemeEdits(BaseModel):
    """Staff's changes to the themes an export finds, by theme id (see ``themes.csv``)."""

    model_config = ConfigDict(extra="forbid")

    rename: dict[str, str] = {}
    merge: dict[str, str] = {}
    drop: list[str] = []


def load_edits(path: Path) -> ThemeEdits | None:
    """Staff's theme file, if there is one; raises ``ThemeFileError`` when it is malformed."""
    if not path.is_file():
        return None
    try:
        return ThemeEdits.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as bad:
        raise ThemeFileError(f"{path}: not valid TOML ({bad}); fix the line it names") from None
    except ValidationError as bad:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in bad.errors()
        )
        raise ThemeFileError(
            f'{path}: {problems}; the file may hold only [rename] (theme id = "new name"), '
            '[merge] (theme id = "theme id it joins") and drop = ["theme id", ...]'
        ) from None


def find_themes(
    replies: Sequence[OpenReply], edits: ThemeEdits | None = None, source: Path | None = None
) -> tuple[Theme, ...]:
    """The themes of ``replies``, with staff's ``edits`` (read from ``source``) applied."""
    # scikit-learn is loaded only when themes are sought: the running bot never needs it.
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [_MARKS.sub(" ", r.text) for r in replies]
    found: tuple[Theme, ...] = ()
    if len(replies) >= FEWEST_REPLIES:
        vectoriser = TfidfVectorizer(
            stop_words="english", token_pattern=r"(?u)\b[^\W\d_]{2,}\b", sublinear_tf=True
        )
        try:
            matrix = vectoriser.fit_transform(texts)
        except ValueError:  # no word left but stop words
            matrix = None
        if matrix is not None:
            found = _themes(replies, matrix, vectoriser.get_feature_names_out())
    return _edited(found, edits, source) if edits is not None else found


def _themes(
    replies: Sequence[OpenReply], matrix: spmatrix, terms: Sequence[str]
) -> tuple[Theme, ...]:
    x = matrix.tocsr()
    worded = np.flatnonzero(x.getnnz(axis=1))
    x = x[worded]
    labels = _clusters(x)
    if labels is None:
        return ()
    themes = []
    for label in sorted(set(labels.tolist())):
        inside = labels == label
        centre = np.asarray(x[inside].mean(axis=0)).ravel()
        outside = np.asarray(x[~inside].mean(axis=0)).ravel()
        apart = centre - outside
        top = np.argsort(-apart, kind="stable")[:NAME_WORDS]
        words = tuple(str(terms[i]) for i in top if apart[i] > 0)
        closeness = np.asarray(x[inside] @ centre).ravel()
        members = [replies[worded[i]] for i in np.flatnonzero(inside)]
        ordered = tuple(members[i] for i in np.argsort(-closeness, kind="stable"))
        themes.append(_theme("-".join(words), ordered, words))
    # Largest first; a name shared by two themes gets a number so every id names one theme.
    themes.sort(key=lambda t: (-len(t.replies), t.id))
    seen: dict[str, int] = {}
    for i, theme in enumerate(themes):
        seen[theme.id] = seen.get(theme.id, 0) + 1
        if seen[theme.id] > 1:
            themes[i] = replace(theme, id=f"{theme.id}-{seen[theme.id]}")
    return tuple(themes)


def _clusters(x: csr_matrix) -> np.ndarray | None:
    """Each row's cluster, by the k-means (2 to 8 clusters) whose clusters are best apart."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    # Many words are first reduced to a few hundred dimensions (LSA), and k-means is fitted
    # on a fixed sample of many replies: the rest go to their nearest centre.
    points = x.toarray() if x.shape[1] <= DIMENSIONS else _lsa(x)
    rows = np.arange(points.shape[0])
    if len(rows) > FIT_SAMPLE:
        rows = np.sort(np.random.default_rng(RANDOM_STATE).choice(rows, FIT_SAMPLE, False))
    fit = points[rows]
    distinct = len(np.unique(fit.round(9), axis=0))
    best: tuple[float, KMeans | None] = (-1.0, None)
    # One thread: k-means's OpenMP threads, spinning on a machine whose cores are busy with the
    # bot, took six times as long in the export benchmark.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # k-means warns when a k finds fewer distinct points
        for k in range(2, min(MOST_THEMES, distinct - 1) + 1):
            model = KMeans(k, n_init=3, random_state=RANDOM_STATE).fit(fit)
            if len(set(model.labels_)) < 2:
                continue
            sample = min(SILHOUETTE_SAMPLE, len(rows))
            score = float(
                silhouette_score(
                    fit, model.labels_, metric="cosine", sample_size=sample,
                    random_state=RANDOM_STATE,
                )
            )  # fmt: skip
            if score > best[0]:
                best = (score, model)
    model = best[1]
    return None if model is None else model.predict(points)


def _lsa(x: csr_matrix) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    reduced = TruncatedSVD(DIMENSIONS, random_state=RANDOM_STATE).fit_transform(x)
    return np.asarray(normalize(reduced))


def _theme(theme_id: str, replies: tuple[OpenReply, ...], words: tuple[str, ...]) -> Theme:
    quotes: list[str] = []
    quoted: set[str] = set()
    for reply in replies:
        if reply.quotable and reply.person not in quoted and len(quotes) < QUOTES:
            quotes.append(one_line(reply.text))
            quoted.add(reply.person)
    return Theme(theme_id, " ".join(words), words, replies, tuple(quotes))


def _edited(found: tuple[Theme, ...], edits: ThemeEdits, source: Path | None) -> tuple[Theme, ...]:
    where = f"{source}" if source else "the theme file"
    ids = {t.id: t for t in found}
    known = ", ".join(ids) or "none"

    def check(section: str, theme_id: str) -> None:
        if theme_id not in ids:
            raise ThemeFileError(
                f"{where}: {section}: '{theme_id}' is not a theme this export found (themes: "
                f"{known}); use a theme_id from themes.csv, or remove the entry"
            )

    for theme_id in edits.drop:
        check("drop", theme_id)
    for theme_id, into in edits.merge.items():
        check("merge", theme_id)
        check("merge", into)
        if into in edits.merge or into in edits.drop or into == theme_id:
            raise ThemeFileError(
                f"{where}: merge: '{theme_id}' joins '{into}', which is itself merged, dropped "
                "or the same theme; merge it into a theme that stays"
            )
        if theme_id in edits.drop:
            raise ThemeFileError(
                f"{where}: '{theme_id}' is both merged and dropped; keep one of the two entries"
            )
    for theme_id in edits.rename:
        check("rename", theme_id)
        if theme_id in edits.merge or theme_id in edits.drop:
            raise ThemeFileError(
                f"{where}: rename: '{theme_id}' is merged or dropped; rename the theme it joins"
            )
    kept = []
    for theme in found:
        if theme.id in edits.drop or theme.id in edits.merge:
            continue
        joined = [t for t in found if edits.merge.get(t.id) == theme.id]
        replies = theme.replies + tuple(r for t in joined for r in t.replies)
        merged = _theme(theme.id, replies, theme.words)
        kept.append(replace(merged, name=edits.rename.get(theme.id, theme.name)))
    return tuple(kept)


def register(themes: Sequence[Theme], ledger: Ledger) -> None:
    """Each theme's people and replies; its replies add up to all the themed replies."""
    cells = []
    for theme in themes:
        people, replies = theme.keys()
        ledger.count(people, theme.people)
        cells.append(ledger.count(replies, len(theme.replies)))
        ledger.alike(people, replies)
    total = sum(len(t.replies) for t in themes)
    ledger.adds_up(ledger.unpublished(ALL_REPLIES, total), cells)


def rows(themes: Sequence[Theme], disclosure: Disclosure) -> Iterator[tuple[object, ...]]:
    """Rows of the ``themes`` table."""
    for theme in themes:
        people, replies = theme.keys()
        cells = (disclosure.value(people), disclosure.value(replies))
        yield (theme.id, theme.name, " ".join(theme.words), *cells)


def quote_rows(themes: Sequence[Theme]) -> Iterator[tuple[object, ...]]:
    """Rows of the ``theme_quotes`` table."""
    for theme in themes:
        for rank, quote in enumerate(theme.quotes, 1):
            yield (theme.id, rank, quote)


def reply_rows(themes: Sequence[Theme]) -> Iterator[tuple[object, ...]]:
    """Rows of the ``theme_replies`` table (research: the reply ids of each theme)."""
    for theme in themes:
        for reply in theme.replies:
            yield (theme.id, reply.ref)
