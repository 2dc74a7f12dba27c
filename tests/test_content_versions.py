"""Answers keep the labels people saw: a script revised after a session never relabels it.

Through the real ``dialogue`` command on the console: a session runs on the first version of a
script, the files are revised (options relabelled and reordered, agree and disagree swapped,
a step removed, a prompt and a card reworded), the bot restarts and the running session goes on
with the version it started on, then a second session runs the new version. Every export
(tables, codebook, Polis, transcripts, report, public counts) labels each answer from the
version its person was shown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.content.check import load_library
from bot.core.ids import PersonRef
from exporters.dataset import ExportOptions, export_dataset
from storage.datasets import Datasets
from tests.support.cli import dialogue, write_config
from tests.support.clockwork import FakeClock, Resident, content_root, settings_for, start_bot, t
from tests.support.export_text import csv_rows

SCRIPT_ID = "labels-demo"
CARD = "what-is-health-data"
OLD_CARD_TITLE = "What is health and care data?"
NEW_CARD_TITLE = "Health data, in brief"

V1 = {
    "comfort": ("Very comfortable", "Somewhat comfortable", "Not comfortable"),
    "statement": ("Agree", "Disagree", "Pass"),
    "dropped": ("Yes", "No"),
}
V2 = {
    "comfort": ("Not comfortable at all", "Fairly comfortable", "Very comfortable"),
    "statement": ("Disagree", "Agree", "Pass"),
}
T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
CYCLE = "2027-c1"
ROSA, TOM = PersonRef("console", "rosa"), PersonRef("console", "tom")
V1_THOUGHTS = "What do you think about sharing data?"
V2_THOUGHTS = "What worries you most?"


def script(options: dict[str, tuple[str, ...]], thoughts: str) -> str:
    """The test script: a message, a card, choices (some may be left out), a prompt, a close."""
    texts = {
        "comfort": "How comfortable are you with research use?",
        "statement": "Data should be shared for research.",
        "dropped": "Should we meet again?",
    }
    steps = [
        'id = "welcome"\nkind = "message"\ntext = "Welcome!"\n',
        f'id = "read"\nkind = "card"\ntext = "Please read."\ncards = ["{CARD}"]\n',
    ]
    for step_id, labels in options.items():
        quoted = ", ".join(f'"{label}"' for label in labels)
        steps.append(
            f'id = "{step_id}"\nkind = "choice"\ntext = "{texts[step_id]}"\noptions = [{quoted}]\n'
        )
    steps.append(f'id = "thoughts"\nkind = "prompt"\ntext = "{thoughts}"\n')
    steps.append('id = "bye"\nkind = "close"\ntext = "Thank you."\n')
    # Every step is offered to residents taking part alone too.
    steps = [f"[[steps]]\n{step}self_paced = true\n" for step in steps]
    head = (
        f'id = "{SCRIPT_ID}"\nversion = "1"\ntitle = "Labels"\nlanguage = "en"\n'
        "estimated_minutes = 30\n\n"
    )
    return head + "\n".join(steps)


FIRST_RUN = [
    f"facilitator: /start {SCRIPT_ID}",
    "alice: /agree participate quote",
    "bob: /agree participate quote",
    "carol: /agree participate quote",
    "alice: ALICE-HERE hello",
    "bob: BOB-HERE hello",
    "carol: CAROL-HERE hello",
    "facilitator: /next",  # the card
    "facilitator: /next",
    "alice: /vote 1",  # Very comfortable
    "bob: /vote 3",  # Not comfortable
    "facilitator: /next",
    "alice: /vote 1",  # Agree
    "bob: /vote 2",  # Disagree
    "facilitator: /next",
    "alice: /vote 1",  # Yes, at the step the revision removes
]
# After a restart on the revised files: the running session goes on with its own version.
SECOND_RUN = [
    "carol: /vote 2",  # No (the step is gone from the files; its place holds the prompt)
    "facilitator: /goto statement",
    "carol: /vote 1",  # Agree (the files now say Disagree first)
    "facilitator: /show statement",
    "facilitator: /goto thoughts",
    "alice: ALICE-THOUGHT-ONE share it carefully",
    "facilitator: /end",
    f"facilitator: /start {SCRIPT_ID}",
    "facilitator: /next",
    "facilitator: /next",
    "alice: /vote 1",  # Not comfortable at all
    "bob: /vote 3",  # Very comfortable
    "facilitator: /next",
    "alice: /vote 2",  # Agree
    "bob: /vote 1",  # Disagree
    "facilitator: /next",
    "bob: BOB-THOUGHT-TWO worried about leaks",
    "facilitator: /end",
]


def revise(root: Path) -> None:
    """The second version: relabelled, reordered, swapped, a step removed, a card retitled."""
    (root / "prompts" / f"{SCRIPT_ID}.toml").write_text(script(V2, V2_THOUGHTS), "utf-8")
    card = root / "resources" / f"{CARD}.md"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace(f"title: {OLD_CARD_TITLE}", f"title: {NEW_CARD_TITLE}"), "utf-8")


def short(root: Path) -> str:
    library = load_library(root)
    return library.version(library.scripts[SCRIPT_ID]).digest[:12]


def test_a_revised_script_never_relabels_answers_given_on_the_earlier_version(
    database_url: str, tmp_path: Path
) -> None:
    root = content_root(tmp_path, {SCRIPT_ID: script(V1, V1_THOUGHTS)})
    more = "[facilitation]\nchart_threshold = 1\n[export]\nsuppression_threshold = 1\n"
    config = write_config(tmp_path / "config.toml", database_url, more, content=root)
    env = {"DIALOGUE_PSEUDONYM_KEY": "test-key-0123456789abcdef"}
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("\n".join(FIRST_RUN) + "\n", encoding="utf-8")
    second.write_text("\n".join(SECOND_RUN) + "\n", encoding="utf-8")
    v1 = short(root)

    run1 = dialogue(config, "run", "--transcript", str(first), env=env, cwd=tmp_path)
    assert run1.returncode == 0, run1.stderr
    revise(root)
    v2 = short(root)
    assert v2 != v1
    run2 = dialogue(config, "run", "--transcript", str(second), env=env, cwd=tmp_path)
    assert run2.returncode == 0, run2.stderr
    said = run2.stdout
    # The session that was running goes on with the version it started on.
    assert "[private to carol] Thank you, your answer is recorded: No." in said
    assert "[private to carol] Thank you, your answer is recorded: Agree." in said
    # /show draws the answers with the labels people saw: Agree 2 (alice, carol), Disagree 1.
    assert "[group console] Agree: 2\n[group console] Disagree: 1\n" in said
    # The new session runs the new version.
    assert "[private to alice] Thank you, your answer is recorded: Not comfortable at all." in said

    out = tmp_path / "research"
    result = dialogue(config, "export", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    who = {
        r["participant"]: r["text"].split("-")[0].lower() for r in csv_rows(out / "responses.csv")
    }
    votes = {
        (
            who[v["participant"]],
            v["content_version"],
            v["step_id"],
            v["options"],
            v["option_labels"],
        )
        for v in csv_rows(out / "votes.csv")
    }
    assert votes == {
        ("alice", v1, "comfort", "1", "Very comfortable"),
        ("bob", v1, "comfort", "3", "Not comfortable"),
        ("alice", v1, "statement", "1", "Agree"),
        ("bob", v1, "statement", "2", "Disagree"),
        ("carol", v1, "statement", "1", "Agree"),
        ("alice", v1, "dropped", "1", "Yes"),
        ("carol", v1, "dropped", "2", "No"),
        ("alice", v2, "comfort", "1", "Not comfortable at all"),
        ("bob", v2, "comfort", "3", "Very comfortable"),
        ("alice", v2, "statement", "2", "Agree"),
        ("bob", v2, "statement", "1", "Disagree"),
    }
    prompts = {
        (r["text"], r["content_version"], r["step_text"]) for r in csv_rows(out / "responses.csv")
    }
    assert ("ALICE-THOUGHT-ONE share it carefully", v1, V1_THOUGHTS) in prompts
    assert ("BOB-THOUGHT-TWO worried about leaks", v2, V2_THOUGHTS) in prompts

    # The codebook lists each version's steps and answers, told apart by content_version.
    options = {
        (o["content_version"], o["step_id"], int(o["option"]), o["label"])
        for o in csv_rows(out / "step_options.csv")
    }
    for version, labels in ((v1, V1), (v2, V2)):
        for step_id, wanted in labels.items():
            for n, label in enumerate(wanted, 1):
                assert (version, step_id, n, label) in options
    assert not any(v == v2 and s == "dropped" for v, s, _, _ in options)
    steps = {(s["content_version"], s["step_id"]): s["text"] for s in csv_rows(out / "steps.csv")}
    assert (steps[(v1, "thoughts")], steps[(v2, "thoughts")]) == (V1_THOUGHTS, V2_THOUGHTS)
    sessions = csv_rows(out / "sessions.csv")
    assert [s["content_version"] for s in sessions] == [v1, v2]
    cards = csv_rows(out / "card_exposures.csv")
    assert [c["card_title"] for c in cards] == [OLD_CARD_TITLE, NEW_CARD_TITLE]

    # Polis: agree is 1 and disagree -1 in both versions, whatever their order on screen.
    (comment,) = csv_rows(out / "polis" / "comments.csv")
    assert (comment["agrees"], comment["disagrees"]) == ("2", "1")  # latest per voter
    coded = sorted(int(v["vote"]) for v in csv_rows(out / "polis" / "votes.csv"))
    assert coded == [-1, -1, 1, 1, 1]

    # Transcripts show each session's own steps; the report counts by the labels seen.
    transcripts = sorted((out / "transcripts").glob("*"))
    texts = [p.read_text(encoding="utf-8") for p in transcripts]
    earlier = next(t for t in texts if "ALICE-THOUGHT-ONE" in t)
    assert "Should we meet again?" in earlier and V1_THOUGHTS in earlier
    assert V2_THOUGHTS not in earlier
    report = (out / "report.html").read_text(encoding="utf-8")
    statement = report[report.index('data-chart="votes-labels-demo-statement"') :]
    statement = statement[: statement.index("</figure>")]
    assert "Agree: 3" in statement and "Disagree: 2" in statement
    manifest = json.loads((out / "MANIFEST.json").read_text(encoding="utf-8"))
    ran = {
        (s["content_version"][:12], s["same_as_content_now"])
        for s in manifest["content"]["scripts"]
    }
    assert ran == {(v1, False), (v2, True)}

    public = tmp_path / "public"
    result = dialogue(config, "export", "--profile", "public", "--out", str(public), env=env)
    assert result.returncode == 0, result.stderr
    counts = {
        (c["step_id"], c["label"]): c["votes"]
        for c in csv_rows(public / "vote_counts.csv")
        if c["group"] == "all"
    }
    assert counts == {
        ("comfort", "Very comfortable"): "2",
        ("comfort", "Not comfortable"): "1",
        ("comfort", "Not comfortable at all"): "1",
        ("statement", "Agree"): "3",
        ("statement", "Disagree"): "2",
        ("dropped", "Yes"): "1",
        ("dropped", "No"): "1",
        # Every answer either version offered is listed, those no one chose as 0.
        ("comfort", "Fairly comfortable"): "0",
        ("comfort", "Somewhat comfortable"): "0",
        ("statement", "Pass"): "0",
    }


async def first_answer(resident: Resident, label: str) -> None:
    """Join the cycle's dialogue, agree, read on, and pick the first answer of the first choice."""
    await resident.say(f"/join {CYCLE}")
    await resident.press("join agree participate quote")
    await resident.press("next")
    await resident.press("next")
    await resident.press("ballot comfort 1")
    assert resident.heard()[-1].startswith(t(resident.bot, "vote.recorded", answer=label))


async def test_a_resident_alone_keeps_the_version_they_started_on_across_a_revision(
    database_url: str, tmp_path: Path
) -> None:
    root = content_root(tmp_path, {SCRIPT_ID: script(V1, V1_THOUGHTS)})
    settings = settings_for(database_url, root)
    # Two residents: the card's counts are read here, not protected.
    settings.export.suppression_threshold = 1
    clock = FakeClock(T0)
    bot = await start_bot(settings, clock)
    closes = T0 + timedelta(days=60)
    await bot.ops.create(CYCLE, "Data", "who uses it", T0, closes, [SCRIPT_ID], T0)
    await bot.ops.open(CYCLE, T0)
    await bot.scheduler.reconcile()
    v1 = short(root)
    rosa = Resident(bot, ROSA)
    await first_answer(rosa, "Very comfortable")
    await rosa.press("stop")
    await bot.close()

    # The files change while she is away; the bot restarts with them.
    revise(root)
    v2 = short(root)
    bot = await start_bot(settings, clock)
    try:
        rosa = Resident(bot, ROSA, rosa.sent)
        await rosa.press("continue")
        assert "1. Agree\n2. Disagree" in rosa.heard()[-1]  # her version's order
        await rosa.press("ballot statement 1")
        said = rosa.heard()[-1]
        assert said.startswith(t(bot, "vote.recorded", answer="Agree"))
        assert "Should we meet again?" in said  # the step the files no longer have
        await rosa.press("ballot dropped 2")
        assert rosa.heard()[-1].startswith(t(bot, "vote.recorded", answer="No"))

        # Someone starting now takes the revised version.
        tom = Resident(bot, TOM, 100)  # press ids are unique on a platform, not per person
        await first_answer(tom, "Not comfortable at all")
        await tom.press("ballot statement 1")
        assert tom.heard()[-1].startswith(t(bot, "vote.recorded", answer="Disagree"))

        out = tmp_path / "export"
        app = bot.app
        options = ExportOptions(out, CYCLE, "test", clock.now)
        await export_dataset(Datasets(app.database), app.library, app.pseudonymiser, options)
        names = {app.pseudonymiser(ROSA): "rosa", app.pseudonymiser(TOM): "tom"}
        await bot.ops.close(CYCLE, clock.now)  # drafts the "what we heard" card
    finally:
        await bot.close()
    card = (root / "resources" / f"heard-{CYCLE}.md").read_text(encoding="utf-8")
    for line in ("Very comfortable", "Not comfortable at all", "Agree", "Disagree", "No"):
        assert f"- {line}: 1\n" in card
    assert "Should we meet again?" in card
    votes = {
        (names[v["participant"]], v["content_version"], v["step_id"], v["option_labels"])
        for v in csv_rows(out / "votes.csv")
    }
    assert votes == {
        ("rosa", v1, "comfort", "Very comfortable"),
        ("rosa", v1, "statement", "Agree"),
        ("rosa", v1, "dropped", "No"),
        ("tom", v2, "comfort", "Not comfortable at all"),
        ("tom", v2, "statement", "Disagree"),
    }
    coded = sorted(int(v["vote"]) for v in csv_rows(out / "polis" / "votes.csv"))
    assert coded == [-1, 1]
    versions = {o["content_version"] for o in csv_rows(out / "step_options.csv")}
    assert versions == {v1, v2}
