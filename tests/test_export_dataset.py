"""A whole cycle exported in both profiles, checked as a researcher and a publisher would."""

import hashlib
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from frictionless import validate
from lxml import etree
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from exporters.dataset import ExportError, ExportOptions, ExportResult, export_dataset
from exporters.schema import tables_for
from storage.datasets import Datasets
from storage.db import make_engine
from storage.keystore import KeyGone
from storage.repositories import Repository
from tests.support.capture import STORE_KEY
from tests.support.export_cycle import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    G1,
    G2,
    G3,
    KEY,
    LIBRARY,
    NOT_NHS,
    PII,
    SCRIPT,
    T0,
    TITLES,
    VOTERS,
    consented,
    cycle_captures,
    replied,
    run_session,
)
from tests.support.export_text import csv_rows, export_text
from tests.support.reach_cycle import QUESTIONS

SCHEMA = Path(__file__).parent / "refi-qda" / "Project-mrt2019.xsd"
QDA = "{urn:QDA-XML:project:1.0}"


@dataclass
class Exported:
    engine: AsyncEngine
    repo: Repository
    datasets: Datasets
    research: ExportResult
    after_withdrawal: ExportResult
    public: ExportResult


async def _export(datasets: Datasets, out: Path, profile: str, day: int) -> ExportResult:
    options = ExportOptions(
        out=out, cycle_id="c1", made_by="tester", now=T0 + timedelta(days=day), profile=profile
    )
    return await export_dataset(datasets, LIBRARY, KEY, options)


@pytest.fixture
async def exported(migrated_url: str, tmp_path: Path) -> AsyncIterator[Exported]:
    engine = make_engine(migrated_url)
    try:
        repo, datasets = Repository(engine, STORE_KEY), Datasets(engine, batch_size=5)
        for group, title in TITLES.items():
            await repo.set_group_title(group, title)
        await repo.apply(cycle_captures())
        research = await _export(datasets, tmp_path / "research", "research", 10)
        await repo.erase_person(DAVE, KEY(DAVE), T0 + timedelta(days=11))
        again = await _export(datasets, tmp_path / "research2", "research", 12)
        public = await _export(datasets, tmp_path / "public", "public", 13)
        yield Exported(engine, repo, datasets, research, again, public)
    finally:
        await engine.dispose()


async def test_research_export_holds_every_consented_row(exported: Exported) -> None:
    out = exported.research.folder
    responses = csv_rows(out / "responses.csv")
    assert len(responses) == 3 + 2 + 1 + 12 + 1  # g1, g2, erin, 12 voters, one on day two
    assert {r["cycle_id"] for r in responses} == {"c1"}
    assert all(r["participant"].startswith("p-") for r in responses)
    alice = [r for r in responses if r["participant"] == KEY(ALICE)]
    assert [r["text"].split()[0] for r in alice] == ["ALICE-QUOTE", "ALICE-SECOND"]
    first = alice[0]
    assert (first["script_id"], first["script_version"], first["step_id"]) == (
        "housing",
        "2",
        "open",
    )
    assert first["step_text"] == "What matters most about your home?"
    assert first["language"] == "en" and first["redactions"] == str(len(PII))
    assert len(csv_rows(out / "votes.csv")) == 4 + 12 + 4 + 1
    participants = csv_rows(out / "participants.csv")
    assert len(participants) == 5 + 12
    by_person = {p["participant"]: p for p in participants}
    assert by_person[KEY(ALICE)]["returning"] == "true"
    assert by_person[KEY(BOB)]["returning"] == "false"
    assert (by_person[KEY(ERIN)]["quote"], by_person[KEY(ERIN)]["profile"]) == ("false", "true")
    answers = csv_rows(out / "profile_answers.csv")
    assert sorted((a["participant"], a["answer"]) for a in answers) == sorted(
        [(KEY(ALICE), ""), (KEY(ERIN), "25-34")]
    )
    assert "BOB-AGE-65" not in export_text(out)
    assert len(csv_rows(out / "sessions.csv")) == 4
    assert {g["title"] for g in csv_rows(out / "groups.csv")} == set(TITLES.values())
    exposures = csv_rows(out / "card_exposures.csv")
    assert len(exposures) == 4
    assert {(e["card_id"], e["card_version"]) for e in exposures} == {("rent-card", "3")}
    assert "ALICE-EARLIER" not in export_text(out)  # cycle c0 is not in the c1 export
    manifest = json.loads((out / "MANIFEST.json").read_text())
    files = {f["path"]: f for f in manifest["files"]}
    assert files["responses.csv"]["rows"] == files["responses.parquet"]["rows"] == len(responses)
    assert manifest["content"]["previous_cycle"] == "c0"
    assert manifest["content"]["cards_shown"] == [["rent-card", "3"]]
    # These sessions kept no content version: they are labelled from the files, and say so.
    assert manifest["content"]["scripts"] == [
        {
            "script_id": "housing",
            "version_run": "2",
            "content_version": LIBRARY.version(SCRIPT).digest,
            "content_kept": False,
            "version_in_content": "2",
            "same_as_content_now": True,
        }
    ]
    assert manifest["made_by"] == "tester" and manifest["profile"] == "research"


async def test_every_table_holds_the_same_rows_in_csv_and_parquet(exported: Exported) -> None:
    for result, profile in ((exported.research, "research"), (exported.public, "public")):
        for table in tables_for(profile):
            from_csv = csv_rows(result.folder / f"{table.name}.csv")
            parquet = pq.read_table(result.folder / f"{table.name}.parquet")
            assert parquet.column_names == list(table.names)
            assert [_as_csv(r) for r in parquet.to_pylist()] == from_csv, table.name


def _as_csv(row: dict[str, object]) -> dict[str, str]:
    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return str(value)

    return {k: text(v) for k, v in row.items()}


async def test_redaction_replaces_each_kind_of_personal_detail(exported: Exported) -> None:
    for result in (exported.research, exported.public):
        text = export_text(result.folder)
        for kind, value in PII.items():
            assert value not in text, kind
            assert f"[{kind.replace('_', '-')}]" in text
        assert NOT_NHS in text  # ten digits without a valid check digit stay
        manifest = json.loads((result.folder / "MANIFEST.json").read_text())
        assert manifest["redaction"]["counts"] == {kind: 1 for kind in PII}
        assert result.redactions == {kind: 1 for kind in PII}


async def test_public_export_holds_only_quotes_and_suppressed_counts(exported: Exported) -> None:
    out = exported.public.folder
    text = export_text(out)
    for marker in ("BOB-NO-QUOTE", "ERIN-PROFILE-ONLY", "DAVE-LATER-WITHDRAWS"):
        assert marker not in text
    assert "ALICE-QUOTE" in text and "CAROL-QUOTE" in text
    for who in (ALICE, BOB, ERIN, *VOTERS):
        assert KEY(who) not in text
    assert "telegram:-100" not in text and "s-g1" not in text  # groups and sessions are coded
    for private in ("participants", "votes", "profile_answers"):
        assert not (out / f"{private}.csv").exists()
    assert "25-34" not in text
    assert not (out / "polis").exists()
    assert "participant" not in csv_rows(out / "responses.csv")[0]
    votes = csv_rows(out / "vote_counts.csv")
    shown = {(v["group"], v["step_id"], v["label"]): v["votes"] for v in votes}
    assert shown[("all", "statement", "Agree")] == "11"  # dave withdrew before this export
    assert shown[("all", "statement", "Disagree")] == ""  # 3 people: suppressed
    # Alice's lone agree in her group is hidden, so the youth forum's 10 must go too, or
    # 11 - 10 would give hers away.
    youth = KEY.code("g", "telegram", "-1003")
    assert shown[(youth, "statement", "Agree")] == ""
    _assert_no_cell_can_be_worked_out(votes)
    consents = {
        (c["group"], c["scope"]): c["participants"] for c in csv_rows(out / "consent_counts.csv")
    }
    assert consents[("all", "participate")] == "16"
    # The two other groups hold 3 between them: beside 16, the youth forum's 13 would say
    # each holds 1 or 2, narrower than "fewer than 10". So the 13 and the 12 are hidden too.
    assert (consents[(youth, "participate")], consents[(youth, "quote")]) == ("", "")
    assert consents[("all", "followup")] == ""


async def test_every_group_has_a_row_in_each_public_count_table_zeros_too(
    exported: Exported,
) -> None:
    # A row left out would be a zero shown beside a withheld total, pointing at its few people.
    out = exported.public.folder
    groups = {c["group"] for c in csv_rows(out / "consent_counts.csv")} - {"all"}
    assert len(groups) > 1
    for table, line in (
        ("participation", ("script_id", "step_id")),
        ("vote_counts", ("script_id", "step_id", "option")),
        ("consent_counts", ("scope",)),
    ):
        rows: dict[tuple[str, ...], set[str]] = {}
        for row in csv_rows(out / f"{table}.csv"):
            rows.setdefault(tuple(row[c] for c in line), set()).add(row["group"])
        assert rows, table
        for at, found in rows.items():
            assert found == groups | {"all"}, (table, at)


async def test_an_export_where_one_group_ran_no_session_is_published_not_refused(
    migrated_url: str, tmp_path: Path
) -> None:
    # Found by the random cycles: alice agreed in a group that ran no session; carol's group
    # ran the only one, and she replied once. Any reader of the sessions' list knows alice's
    # group replied 0 times and that the one reply is the other group's. The audit took that
    # for a leak, and the public export of every cycle was refused.
    engine = make_engine(migrated_url)
    try:
        repo, datasets = Repository(engine, STORE_KEY), Datasets(engine)
        await repo.apply(
            [
                *run_session(G2, "s-g2", "c1", T0, end=True),
                consented(ALICE, G1, "participate"),
                consented(CAROL, G2, "participate"),
                replied(CAROL, G2, "s-g2", 1, "CAROL-ONLY reply"),
            ]
        )
        library = replace(LIBRARY, profiles={"en": QUESTIONS})
        options = ExportOptions(
            out=tmp_path / "public", cycle_id=None, made_by="tester", now=T0, profile="public"
        )
        public = await export_dataset(datasets, library, KEY, options)
        rows = csv_rows(public.folder / "participation.csv")
        groups = {KEY.code("g", g.platform, g.chat_id) for g in (G1, G2)}
        # The one reply's table is still withheld whole, the idle group's zero too.
        assert {r["group"]: r["replies"] for r in rows} == dict.fromkeys([*groups, "all"], "")
        assert "CAROL-ONLY" not in export_text(public.folder)  # she agreed to no quotes
    finally:
        await engine.dispose()


def _assert_no_cell_can_be_worked_out(votes: list[dict[str, str]]) -> None:
    lines: dict[tuple[str, str, str], list[str]] = {}
    for v in votes:
        lines.setdefault((v["script_id"], v["step_id"], v["option"]), []).append(v["votes"])
    for key, cells in lines.items():
        assert sum(c == "" for c in cells) != 1, key


async def test_datapackage_validates_offline_with_frictionless(exported: Exported) -> None:
    for result in (exported.research, exported.public):
        package = json.loads((result.folder / "datapackage.json").read_text())
        assert package["profile"] == "tabular-data-package"
        report = validate(str(result.folder / "datapackage.json"))
        assert report.valid, report.flatten(["type", "note"])
        names = {r["name"] for r in package["resources"]}
        assert names == {t.name for t in tables_for(result.folder.name.rstrip("2"))}


async def test_qdpx_validates_and_opens_coded_by_question(exported: Exported) -> None:
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    with zipfile.ZipFile(exported.research.folder / "dialogue.qdpx") as archive:
        project = etree.fromstring(archive.read("project.qde"))
        assert schema.validate(project), schema.error_log
        sources = project.findall(f"{QDA}Sources/{QDA}TextSource")
        assert len(sources) == 4
        members = set(archive.namelist())
        for source in sources:
            path = source.get("plainTextPath").removeprefix("internal://")
            assert f"sources/{path}" in members
        texts = {archive.read(f"sources/{s.get('plainTextPath')[11:]}").decode() for s in sources}
    cases = project.findall(f"{QDA}Cases/{QDA}Case")
    assert {c.get("name") for c in cases} == {
        KEY(p) for p in (ALICE, BOB, CAROL, DAVE, ERIN, *VOTERS)
    }
    codes = project.findall(f"{QDA}CodeBook/{QDA}Codes/{QDA}Code[@name='housing']/{QDA}Code")
    assert [c.get("name") for c in codes] == [s.id for s in LIBRARY.scripts["housing"].steps]
    open_code = next(c.get("guid") for c in codes if c.get("name") == "open")
    coded = project.findall(f".//{QDA}PlainTextSelection/{QDA}Coding/{QDA}CodeRef")
    by_step = [c for c in coded if c.get("targetGUID") in {c.get("guid") for c in codes}]
    assert len(by_step) == 19 and {c.get("targetGUID") for c in by_step} == {open_code}
    selection = project.find(f".//{QDA}PlainTextSelection")
    source_text = next(t for t in texts if "ALICE-QUOTE" in t)
    start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
    assert source_text[start:end].startswith("ALICE-QUOTE")
    alice = next(c for c in cases if c.get("name") == KEY(ALICE))
    assert len(alice.findall(f"{QDA}SelectionRef")) == 2
    with zipfile.ZipFile(exported.public.folder / "dialogue.qdpx") as archive:
        public = etree.fromstring(archive.read("project.qde"))
    assert schema.validate(public), schema.error_log
    assert public.find(f"{QDA}Cases") is None


async def test_manifest_checksums_match_every_file(exported: Exported) -> None:
    for result in (exported.research, exported.public):
        manifest = json.loads((result.folder / "MANIFEST.json").read_text())
        listed = {f["path"]: f for f in manifest["files"]}
        on_disk = {
            p.relative_to(result.folder).as_posix()
            for p in result.folder.rglob("*")
            if p.is_file() and p.name != "MANIFEST.json"
        }
        assert set(listed) == on_disk
        for path, entry in listed.items():
            data = (result.folder / path).read_bytes()
            assert entry["sha256"] == hashlib.sha256(data).hexdigest(), path
            assert entry["bytes"] == len(data)
        assert manifest["software"]["name"] == "distributed-dialogue"
        assert manifest["consent"]["suppression_threshold"] == (
            10 if result is exported.public else None
        )


async def test_polis_files_use_polis_columns_and_vote_coding(exported: Exported) -> None:
    polis = exported.research.folder / "polis"
    comments = csv_rows(polis / "comments.csv")
    assert list(comments[0]) == [
        "timestamp", "datetime", "comment-id", "author-id",
        "agrees", "disagrees", "moderated", "comment-body", "is-seed", "is-meta",
    ]  # fmt: skip
    assert len(comments) == 1  # only the agree/disagree/pass step is a statement
    assert comments[0]["comment-body"].startswith("Landlords should share")
    assert (comments[0]["agrees"], comments[0]["disagrees"]) == ("12", "3")
    assert comments[0]["datetime"].endswith("GMT+0000 (Coordinated Universal Time)")
    votes = csv_rows(polis / "votes.csv")
    assert list(votes[0]) == ["timestamp", "datetime", "comment-id", "voter-id", "vote"]
    assert sorted(int(v["vote"]) for v in votes).count(0) == 1  # carol passed
    assert {int(v["vote"]) for v in votes} == {1, -1, 0}
    matrix = csv_rows(polis / "participants-votes.csv")
    header = list(matrix[0])
    assert header[:6] == [
        "participant",
        "group-id",
        "n-comments",
        "n-votes",
        "n-agree",
        "n-disagree",
    ]
    assert header[6:] == [comments[0]["comment-id"]]
    assert len(matrix) == 16 and all(m["n-votes"] == "1" for m in matrix)
    ids = {r["voter-id"]: r["participant"] for r in csv_rows(polis / "participant-ids.csv")}
    by_voter = {ids[m["participant"]]: m[header[6]] for m in matrix}
    assert (by_voter[KEY(ALICE)], by_voter[KEY(BOB)]) == ("1", "-1")


async def test_withdrawal_reaches_later_exports_and_the_erasure_list(exported: Exported) -> None:
    before = export_text(exported.research.folder)
    after = export_text(exported.after_withdrawal.folder)
    assert "DAVE-LATER-WITHDRAWS" in before and KEY(DAVE) in before
    assert "DAVE-LATER-WITHDRAWS" not in after and KEY(DAVE) not in after
    notices = await exported.datasets.erasures_since(exported.research.export_id)
    assert [(n.export.export_id, n.pseudonym) for n in notices] == [
        (exported.research.export_id, KEY(DAVE))
    ]
    assert await exported.datasets.erasures_since(exported.after_withdrawal.export_id) == []
    manifest = json.loads((exported.after_withdrawal.folder / "MANIFEST.json").read_text())
    assert manifest["withdrawals"]["earlier_exports"] == [
        {"export_id": exported.research.export_id, "withdrawn_pseudonyms": 1}
    ]
    audits = await exported.repo.audit_entries("export")
    assert [a.detail["export_id"] for a in audits] == [
        exported.research.export_id,
        exported.after_withdrawal.export_id,
        exported.public.export_id,
    ]
    assert all(a.detail["made_by"] == "tester" for a in audits)


async def test_transcripts_show_prompts_cards_and_replies_in_order(exported: Exported) -> None:
    transcript = (exported.research.folder / "transcripts" / "s-g1.md").read_text()
    order = [
        "## Step 2: read",
        "*Card shown: Rents explained (rent-card, version 3)",
        "## Step 3: open",
        f"**{KEY(ALICE)}**",
        "ALICE-SECOND",
        f"**{KEY(BOB)}**",
        "## Step 4: statement",
    ]
    positions = [transcript.index(marker) for marker in order]
    assert positions == sorted(positions)
    public = (exported.public.folder / "transcripts").iterdir()
    assert all("BOB-NO-QUOTE" not in p.read_text() for p in public)


async def test_export_refuses_an_unknown_cycle_and_a_used_folder(
    exported: Exported, tmp_path: Path
) -> None:
    with pytest.raises(ExportError, match="no cycle 'nope'.*c0, c1"):
        await export_dataset(
            exported.datasets,
            LIBRARY,
            KEY,
            ExportOptions(out=tmp_path / "x", cycle_id="nope", made_by="t", now=T0),
        )
    with pytest.raises(ExportError, match="not an empty folder"):
        await _export(exported.datasets, exported.research.folder, "research", 20)
    assert (exported.research.folder / "MANIFEST.json").exists(), "a used folder is left alone"


@pytest.mark.parametrize("profile", ["research", "public"])
async def test_an_export_that_fails_midway_leaves_no_folder_behind(
    exported: Exported, tmp_path: Path, profile: str
) -> None:
    async with exported.engine.begin() as conn:
        # A reply's text moved to another row fails closed as the walk opens it.
        await conn.execute(
            text(
                "UPDATE responses SET text = (SELECT text FROM responses ORDER BY id LIMIT 1)"
                " WHERE id = (SELECT MAX(id) FROM responses)"
            )
        )
    with pytest.raises(KeyGone, match="cannot be read"):
        await _export(exported.datasets, tmp_path / "failed", profile, 20)
    assert not (tmp_path / "failed").exists()


async def test_public_export_names_no_group_and_points_at_no_message(
    exported: Exported, tmp_path: Path
) -> None:
    out = exported.public.folder
    text = export_text(out)
    for title in TITLES.values():
        assert title not in text  # nor in report.html: export_text reads every file
    columns = csv_rows(out / "responses.csv")[0]
    for removed in ("response_id", "message_id", "reply_to", "participant"):
        assert removed not in columns
    for name in ("responses", "sessions", "step_visits", "card_exposures"):
        for row in csv_rows(out / f"{name}.csv"):
            for column, value in row.items():
                if column.endswith("_at") and value:
                    assert len(value) == len("2026-01-01"), (name, column, value)
    transcript = next((out / "transcripts").glob("*.md")).read_text()
    assert " UTC" not in transcript and " at " not in transcript  # no time of day
    # Staff may give a group a label for publication: then, and only then, it is printed.
    labelled = replace(
        ExportOptions(
            out=tmp_path / "labelled",
            cycle_id="c1",
            made_by="tester",
            now=T0 + timedelta(days=14),
            profile="public",
        ),
        group_labels={f"{G3.platform}:{G3.chat_id}": "Young residents"},
    )
    again = await export_dataset(exported.datasets, LIBRARY, KEY, labelled)
    groups = {g["title"] for g in csv_rows(again.folder / "groups.csv")}
    assert groups == {"Young residents", ""}
    assert "Young residents" in (again.folder / "report.html").read_text()
    assert "Youth forum" not in export_text(again.folder)
