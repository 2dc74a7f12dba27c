"""``dialogue export``: one folder per export, every writer fed from one streamed pass.

Sessions are read one at a time and their replies streamed in pages, so the transcript, the
REFI-QDA source and the table rows of a session are written together and memory stays flat.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot import __version__
from bot.content.check import Library
from bot.content.scopes import REQUIRED_SCOPE, Scope
from bot.core.ids import GroupRef
from bot.private_files import private_file, private_folder
from bot.texts import Catalogue
from exporters import aggregates as agg_
from exporters import (
    analyses,
    analysis_report,
    datapackage,
    manifest,
    opinion,
    published,
    reach_render,
    readme,
    report,
)
from exporters import themes as themes_
from exporters.aggregates import Aggregates
from exporters.analyses import AnalysisError
from exporters.codebook import Codebook
from exporters.cycle_read import Cycle, read_cycle, timed_visits
from exporters.disclosure import DEFAULT_THRESHOLD, Disclosure, DisclosureError
from exporters.formats import FORMATS
from exporters.learning import Words, feedback_notes, notes, reflections
from exporters.parquet_tables import without_pandas
from exporters.polis import Ballots, Conversation
from exporters.progress import Progress
from exporters.pseudonymise import Naming, Pseudonymiser
from exporters.redact import KINDS, Redactor
from exporters.reply_reader import ReplyReader
from exporters.schema import ALL_GROUPS, tables_for
from exporters.sink import BATCH, Sinks
from exporters.themes import OpenReplies, ThemeEdits, ThemeFileError
from exporters.walk import Walk, give_back_freed_memory
from exporters.writer import Ending, Start, Writers
from storage.datasets import Datasets


class ExportError(Exception):
    """A problem with the export request that the person running it can fix."""


@dataclass(frozen=True)
class ExportOptions:
    """What to export, where, and under which rules."""

    out: Path
    cycle_id: str | None
    made_by: str
    now: datetime
    profile: str = "research"
    threshold: int = DEFAULT_THRESHOLD
    redact: tuple[str, ...] = KINDS
    progress: TextIO | None = None
    # The language of the profile questions the reach section reports on.
    language: str = "en"
    # Publishable group labels by 'platform:chat id'; the public profile prints no other name.
    group_labels: Mapping[str, str] = field(default_factory=dict)
    # Staff's Markdown narrative: a folder holding one folder per cycle (summary.md, heard.md,
    # worked.md, next.md), included in the report.
    narrative: Path | None = None
    # Staff's renames, merges and drops of the themes found (``exporters.themes``), if any.
    themes_file: Path | None = None
    # Themes are fitted on a fixed sample of at most this many replies; every reply is placed.
    theme_sample: int = themes_.FIT_SAMPLE


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    export_id: int
    folder: Path
    rows: dict[Path, int]
    redactions: dict[str, int]


def _in_use(out: Path) -> bool:
    """Whether ``out`` holds something already: an export writes only into a new or empty folder."""
    return out.exists() and (not out.is_dir() or any(out.iterdir()))


def _check(options: ExportOptions, known: Sequence[str]) -> None:
    if options.profile not in ("research", "public"):
        raise ExportError(
            f"--profile: '{options.profile}' is not a profile; use research or public"
        )
    if options.cycle_id is not None and options.cycle_id not in known:
        raise ExportError(
            f"--cycle: there is no cycle '{options.cycle_id}' (no sessions, not managed); cycles: "
            f"{', '.join(known) or 'none yet'}"
        )
    if _in_use(options.out):
        raise ExportError(f"--out: {options.out} is not an empty folder; name a new one")
    if options.threshold < 1:
        raise ExportError("export.suppression_threshold: must be at least 1")


def _start(read: Cycle, options: ExportOptions, export_id: int) -> Start:
    """What every format is opened with; the Polis ballots are filled by the walk."""
    cycle, this = read.cycle, read.this
    topic = f"Cycle {cycle or 'all'}" + (f": {this.title}" if this and this.title else "")
    conversation = Conversation(topic, codebook_titles(read.codebook), read.first or options.now)
    return Start(
        out=options.out,
        profile=options.profile,
        tables=tables_for(options.profile),
        codebook=read.codebook,
        export_id=export_id,
        cycle=cycle,
        now=options.now,
        ballots=Ballots(read.codebook.statements()),
        conversation=conversation,
    )


async def _walk(walk: Walk, read: Cycle, agg: Aggregates, sinks: Sinks) -> None:
    """The one pass over the cycle: consents, the codebook's tables, sessions, votes."""
    # The replies' reader starts first, to load its libraries while the consents are read.
    reader = ReplyReader(walk.datasets, read.sessions)
    reader.start()
    try:
        await walk.participants(read.cycle)
        for row in read.codebook.steps_rows():
            sinks.add("steps", row)
        for row in read.codebook.option_rows():
            sinks.add("step_options", row)
        # Each session's visits are timed as the walk reaches it, not held for every session.
        plan = (
            (
                session,
                timed_visits(agg, read.codebook, session, read.visits.of(session.session_id)),
                read.cards.get(session.session_id, []),
            )
            for session in read.sessions
        )
        await walk.sessions(read.sessions, plan, reader.batches())
    finally:
        reader.close()  # a walk that failed leaves no reader behind
    await walk.votes(read.cycle)
    give_back_freed_memory()


def _analyses_of(
    walk: Walk,
    analysing: analyses.Analyses,
    ballots: Ballots,
    edits: ThemeEdits | None,
    options: ExportOptions,
) -> tuple[opinion.OpinionGroups, tuple[themes_.Theme, ...]]:
    """The opinion groups and themes; a failed analysis or an unfit theme file stops the export."""
    try:
        found = analysing.analyse(ballots, walk.open_replies, options.theme_sample)
        placed = themes_.find_themes(walk.open_replies, found.themes, edits, options.themes_file)
    except (AnalysisError, ThemeFileError) as bad:
        raise ExportError(str(bad)) from bad
    finally:
        walk.open_replies.close()
    # Every open reply's details and the analyses' answer were read, and all but the themes
    # let go: their freed pages would stay resident to the end of the export.
    give_back_freed_memory()
    return found.groups, placed


def _group_tables(
    sinks: Sinks, read: Cycle, naming: Naming, options: ExportOptions
) -> tuple[dict[str, int], dict[GroupRef, str | None]]:
    """The groups table; each group label's sessions, and the names the export may print."""
    group_sessions: dict[str, int] = {}
    for session in read.sessions:
        label = naming.group(session.group)
        group_sessions[label] = group_sessions.get(label, 0) + 1
    names = printable_names(read.titles, naming, options.group_labels)
    for session in {s.group: s for s in read.sessions}.values():
        label = naming.group(session.group)
        sinks.add(
            "groups",
            (label, session.group.platform, names.get(session.group), group_sessions[label]),
        )
    return group_sessions, names


async def export_dataset(
    datasets: Datasets, library: Library, pseudonymiser: Pseudonymiser, options: ExportOptions
) -> ExportResult:
    """Write one export folder and record the export; see the module docstring.

    An export that fails leaves no folder: half an export (its tables written, its audit not
    run) must not be taken for one. A folder that was in use is refused and left as it was.
    """
    fresh = not _in_use(options.out)
    try:
        return await _export(datasets, library, pseudonymiser, options)
    except BaseException:
        if fresh:
            shutil.rmtree(options.out, ignore_errors=True)
        raise


@without_pandas()  # nothing here uses it; pyarrow would load it for nothing
async def _export(
    datasets: Datasets, library: Library, pseudonymiser: Pseudonymiser, options: ExportOptions
) -> ExportResult:
    read = await read_cycle(datasets, library, options.cycle_id)
    _check(options, [c.cycle_id for c in read.cycles])
    edits = _edits(options.themes_file)
    public = options.profile == "public"
    cycle, codebook = read.cycle, read.codebook
    naming = Naming(pseudonymiser, public)
    export_id = await datasets.start_export(cycle, options.profile, options.made_by, options.now)
    private_folder(options.out)
    start = _start(read, options, export_id)
    writers = Writers(start, FORMATS)
    sinks = Sinks(start.tables, writers)
    agg = Aggregates(returning_people={naming.pseudonym(p) for p, _ in read.back})
    agg.plan(codebook.keys())
    # Started once the walk finds enough replies for themes, to load its libraries meanwhile.
    analysing = analyses.Analyses()
    walk = Walk(
        datasets=datasets,
        codebook=codebook,
        naming=naming,
        sinks=sinks,
        writers=writers,
        agg=agg,
        redactor=Redactor(options.redact),
        ballots=start.ballots,
        progress=Progress(read.total, stream=options.progress),
        library=library,
        open_replies=OpenReplies(analysing.start),
    )
    try:
        await _walk(walk, read, agg, sinks)
        groups, themes = _analyses_of(walk, analysing, start.ballots, edits, options)
    finally:
        analysing.close()  # a walk that failed leaves no analyses' process behind
    # Facilitators' words are redacted like replies; the public profile keeps them out.
    reflected = (
        [] if public else [r.redacted(walk.redactor) for r in await datasets.reflections(cycle)]
    )
    for r in reflected:
        row = (naming.session(r.session_id), naming.group(r.group), *r.answers, r.updated_at)
        sinks.add("reflections", row)
    group_sessions, names = _group_tables(sinks, read, naming, options)
    # The research profile shows counts as they are: a threshold of 1 hides nothing.
    disclosure, reached = await published.settle(
        datasets,
        library,
        codebook,
        agg,
        cycle,
        options.language,
        options.threshold if public else 1,
        naming,
        lambda ledger: opinion.register(groups, ledger),
        lambda ledger: themes_.register(themes, ledger),
    )
    _analyses(sinks, groups, themes, disclosure)
    if public:
        _aggregate_tables(sinks, agg, disclosure, codebook)
    sinks.flush()
    found = [(t.name, " ".join(t.words), t.refs) for t in themes]
    rows = writers.finish(Ending(found, groups.polis_groups()))
    give_back_freed_memory()
    walk.progress.finish()

    group_names = display_names(names, naming)
    reach = (
        reached(disclosure, lambda replies: naming.session(replies.session_id)) if reached else None
    )
    say = Words(Catalogue.load(), options.language)
    context = replace(
        _report_context(read, options, agg, disclosure, say, group_names, len(group_sessions)),
        reflections=reflections(reflected, naming, group_names, say),
        opinion_groups=analysis_report.opinion_groups(groups, disclosure, say),
        themes=analysis_report.themes(themes, disclosure, say),
        reach=reach_render.html(reach) if reach else "",
        banner=reach_render.banner(reach) if reach else "",
    )
    page = report.render(agg, context, disclosure)
    if public:
        _audit(disclosure)
    private_file(options.out / "report.html").write_text(page, encoding="utf-8")
    await _documents(datasets, library, read, options, export_id, walk, rows, len(group_sessions))
    table_rows = {p: n for p, n in rows.items() if p.suffix == ".csv" and p.parent == options.out}
    return ExportResult(export_id, options.out, table_rows, dict(walk.redactor.counts))


def _report_context(
    read: Cycle,
    options: ExportOptions,
    agg: Aggregates,
    disclosure: Disclosure,
    say: Words,
    group_names: dict[str, str],
    groups: int,
) -> report.ReportContext:
    """The report's facts and learning notes; the caller adds the analyses and reach."""
    cycle, this, codebook = read.cycle, read.this, read.codebook
    public = options.profile == "public"
    return report.ReportContext(
        title=f"Cycle report: {cycle or 'all cycles'}",
        notice=(
            f"Profile {options.profile}. "
            + (
                f"Counts under {options.threshold} are withheld."
                if public
                else "Not for publication."
            )
        ),
        facts=[
            ("Cycle", f"{cycle} ({this.title})" if this and this.title else cycle or "all"),
            ("Made", options.now.strftime("%Y-%m-%d %H:%M UTC")),
            ("Sessions", str(len(read.sessions))),
            ("Groups", str(groups)),
            ("Previous cycle", read.previous[-1] if read.previous else "none"),
        ],
        group_names=group_names,
        step_labels=codebook.labels(),
        choices=[(k, codebook.question(k), labels) for k, labels in codebook.choices()],
        say=say,
        learning=[
            *notes(read.sessions, read.visits.shown, codebook, agg, disclosure, say),
            *feedback_notes(codebook, disclosure, say),
        ],
        narrative=report.narrative(
            options.narrative / (cycle or "all") if options.narrative else None
        ),
        language=options.language,
        direction=report.direction(options.language),
    )


async def _documents(
    datasets: Datasets,
    library: Library,
    read: Cycle,
    options: ExportOptions,
    export_id: int,
    walk: Walk,
    rows: dict[Path, int],
    groups: int,
) -> None:
    """The README, the data package, the manifest (last: it sums every file), the record."""
    out, cycle = options.out, read.cycle
    tables = tables_for(options.profile)
    about = _about(options, export_id, cycle, library, read.codebook, walk, read.previous)
    about["withdrawals"] = await _withdrawals(datasets, export_id)
    facts = {
        "title": f"Deliberation data, cycle {cycle or 'all'} ({options.profile})",
        "made_at": options.now.strftime("%Y-%m-%d %H:%M UTC"),
        "made_by": options.made_by,
        "version": __version__,
        "export_id": export_id,
        "profile": options.profile,
        "cycle": cycle or "all",
        "sessions": len(read.sessions),
        "groups": groups,
    }
    readme.write(out, tables, facts, dict(walk.redactor.counts), options.threshold)
    datapackage.write(out, tables, _package(options, export_id, cycle))
    manifest.write(out, rows, about)
    await datasets.finish_export(
        export_id,
        walk.pseudonyms,
        options.now,
        {
            "cycle": cycle,
            "profile": options.profile,
            "made_by": options.made_by,
            "rows": read.total,
        },
    )


def codebook_titles(codebook: Codebook) -> str:
    """The titles of the scripts the statements come from, for Polis's summary."""
    return "; ".join(script.title for script in codebook.scripts.values())


def _edits(path: Path | None) -> ThemeEdits | None:
    """Staff's theme file, read before anything is written: a bad file stops the export."""
    try:
        return themes_.load_edits(path) if path is not None else None
    except ThemeFileError as bad:
        raise ExportError(str(bad)) from bad


def _analyses(
    sinks: Sinks,
    groups: opinion.OpinionGroups,
    themes: Sequence[themes_.Theme],
    disclosure: Disclosure,
) -> None:
    """The opinion groups and themes, as tables (counts through the disclosure policy)."""
    for row in opinion.rows(groups, disclosure):
        sinks.add("opinion_groups", row)
    for row in themes_.rows(themes, disclosure):
        sinks.add("themes", row)
    for row in themes_.quote_rows(themes):
        sinks.add("theme_quotes", row)
    if "theme_replies" in sinks:
        for batch in themes_.reply_batches(themes, sinks.schema("theme_replies"), BATCH):
            sinks.add_batch("theme_replies", batch)


def printable_names(
    titles: Mapping[GroupRef, str | None], naming: Naming, labels: Mapping[str, str]
) -> dict[GroupRef, str | None]:
    """Group names an export may print: titles (research), staff's labels only (public)."""
    if not naming.public:
        return dict(titles)
    return {g: labels.get(f"{g.platform}:{g.chat_id}") for g in titles}


def display_names(names: Mapping[GroupRef, str | None], naming: Naming) -> dict[str, str]:
    """Each group's name by its export label: its printable name, else the label itself."""
    return {naming.group(g): t or naming.group(g) for g, t in names.items()}


def _audit(disclosure: Disclosure) -> None:
    """The last step of a public export (its folder is removed when the audit fails)."""
    try:
        disclosure.check("The public export")
    except DisclosureError as failed:
        raise ExportError(str(failed)) from failed


def _aggregate_tables(
    sinks: Sinks, agg: Aggregates, disclosure: Disclosure, codebook: Codebook
) -> None:
    for key in sorted(k for k in disclosure.counts if k[0] == "replies" and len(k) == 4):
        group, step = key[1], (key[2], key[3])
        sinks.add(
            "participation",
            (
                group,
                *step,
                disclosure.value(agg_.participants(group, step)),
                disclosure.value(key),
            ),
        )
    labels = dict(codebook.choices())
    cells = [k for k in disclosure.counts if k[0] == "votes"]
    for cell in sorted(cells, key=lambda k: (k[1], k[2], k[3], int(k[4]))):
        options = labels.get((cell[2], cell[3]), ())
        option = int(cell[4])
        label = options[option - 1] if 0 < option <= len(options) else None
        sinks.add("vote_counts", (*cell[1:4], option, label, disclosure.value(cell)))
    consents = [k for k in disclosure.counts if k[0] == "consent"]
    for cell in sorted(consents, key=lambda k: (k[1] == ALL_GROUPS, k)):
        sinks.add("consent_counts", (*cell[1:], disclosure.value(cell)))


def _about(
    options: ExportOptions,
    export_id: int,
    cycle: str | None,
    library: Library,
    codebook: Codebook,
    walk: Walk,
    previous: Sequence[str],
) -> dict[str, object]:
    return {
        "export_id": export_id,
        "software": {"name": "distributed-dialogue", "version": __version__},
        "profile": options.profile,
        "cycle": cycle,
        "made_at": options.now.isoformat(),
        "made_by": options.made_by,
        "consent": {
            "stored_only_with_scope": REQUIRED_SCOPE.value,
            "replies_require_scope": (
                Scope.QUOTE if options.profile == "public" else REQUIRED_SCOPE
            ).value,
            "participant_level_data": options.profile == "research",
            "consent_versions": sorted(walk.consent_versions),
            "suppression_threshold": options.threshold if options.profile == "public" else None,
        },
        "redaction": {"kinds": list(walk.redactor.kinds), "counts": dict(walk.redactor.counts)},
        "content": {
            "scripts": codebook.ran(library),
            "cards_shown": sorted([list(c) for c in walk.cards_shown]),
            "previous_cycle": previous[-1] if previous else None,
        },
    }


async def _withdrawals(datasets: Datasets, export_id: int) -> dict[str, object]:
    earlier = [e for e in await datasets.exports() if e.export_id < export_id]
    if not earlier:
        return {"earlier_exports": []}
    counts: dict[int, int] = {}
    for notice in await datasets.erasures_since(earlier[0].export_id):
        if notice.export.export_id < export_id:
            counts[notice.export.export_id] = counts.get(notice.export.export_id, 0) + 1
    return {
        "earlier_exports": [
            {"export_id": e, "withdrawn_pseudonyms": n} for e, n in sorted(counts.items())
        ],
        "how_to_list": f"dialogue export erasures --since {earlier[0].export_id}",
    }


def _package(options: ExportOptions, export_id: int, cycle: str | None) -> dict[str, object]:
    name = f"dialogue-cycle-{cycle or 'all'}-{options.profile}-{export_id}".lower()
    return {
        "name": "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name),
        "title": f"Deliberation data, cycle {cycle or 'all'} ({options.profile} profile)",
        "created": options.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": str(export_id),
    }
