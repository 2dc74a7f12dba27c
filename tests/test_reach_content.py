"""Profile questions and the baseline are content: validated, with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main
from bot.content.check import collect, load_library
from bot.content.problems import Problem
from tests.support.cli import ROOT

QUESTIONS = """
language = "en"
version = "1"

[[questions]]
id = "age"
label = "Age group"
text = "How old are you?"
options = ["Under 40", "40 or over"]

[[questions]]
id = "ethnic"
label = "Ethnic group"
text = "Your ethnic group?"
options = ["Indian", "Caribbean", "Irish"]
[questions.groups]
"Asian" = ["Indian"]
"Black" = ["Caribbean"]
"White" = ["Irish"]

[[questions]]
id = "before"
label = "Taken part before"
text = "Taken part before?"
options = ["Yes", "No"]
baseline = false
"""

HEADER = "category,value,share,source,date\n"
GOOD_ROWS = (
    "age,Under 40,50.5,Census 2021 TS007A,2021-03-21\n"
    "age,40 or over,49.5,Census 2021 TS007A,2021-03-21\n"
    "ethnic,Asian,33.3,Census 2021 TS021,2021\n"
    "ethnic,Black,33.3,Census 2021 TS021,2021\n"
    "ethnic,White,33.3,Census 2021 TS021,2021\n"
)


def content(tmp_path: Path, baseline: str | None, questions: str = QUESTIONS) -> Path:
    (tmp_path / "prompts" / "profile").mkdir(parents=True)
    (tmp_path / "resources").mkdir()
    (tmp_path / "prompts" / "profile" / "en.toml").write_text(questions, encoding="utf-8")
    if baseline is not None:
        (tmp_path / "resources" / "baseline.csv").write_text(baseline, encoding="utf-8")
    return tmp_path


def problems(root: Path) -> list[str]:
    found, _ = collect(root)
    return [str(p) for p in found if "profile" in str(p.path) or "baseline" in str(p.path)]


def test_the_shipped_content_loads_and_only_warns_that_the_baseline_is_an_example() -> None:
    found, library = collect(ROOT)
    mine = [
        p
        for p in found
        if p.path.name in ("baseline.csv", "en.toml")
        and "profile" in str(p)
        and "translation of" not in p.message  # the content check's word on languages
    ]
    baseline = [p for p in found if p.path.name == "baseline.csv"]
    assert mine == []
    assert len(baseline) == 1 and baseline[0].warning
    assert "EXAMPLE" in baseline[0].message
    assert library.baseline is not None and library.baseline.example
    assert set(library.baseline.categories()) == {
        q.id for q in library.profiles["en"].questions if q.baseline
    }
    assert load_library(ROOT).profiles["en"].version == "1"


def test_content_check_warns_about_the_example_baseline_and_still_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["content", "check", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert "resources/baseline.csv: warning: source: these figures are an EXAMPLE" in out


def test_a_published_baseline_that_matches_the_questions_has_no_problem(tmp_path: Path) -> None:
    root = content(tmp_path, HEADER + GOOD_ROWS)
    assert problems(root) == []
    baseline = load_library(root).baseline
    assert baseline is not None and not baseline.example
    assert baseline.shares("ethnic") == {"Asian": 33.3, "Black": 33.3, "White": 33.3}
    assert baseline.sources("age") == ("Census 2021 TS007A (2021-03-21)",)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # 99.9 is 33.3 three times: within rounding (3 x 0.05).
        (GOOD_ROWS, []),
        # Whole numbers may be half a point off each: 3 x 0.5 covers 99.
        (GOOD_ROWS.replace("33.3", "33"), []),
        (
            GOOD_ROWS.replace("White,33.3", "White,33.0"),
            ["baseline.csv: ethnic: the shares add up to 99.6%, not 100%"],
        ),
        (
            GOOD_ROWS.replace("50.5", "60.5"),
            ["baseline.csv: age: the shares add up to 110%, not 100%"],
        ),
        (
            GOOD_ROWS + "ethnic,Purple,0,Census 2021 TS021,2021\n",
            ["baseline.csv: ethnic: 'Purple' is not an answer of question 'ethnic'"],
        ),
        (
            GOOD_ROWS.replace("ethnic,White,33.3", "ethnic,Irish,33.3"),
            [
                "baseline.csv: ethnic: 'Irish' is not an answer of question 'ethnic'",
                "baseline.csv: ethnic: 'White' (an answer in prompts/profile/en.toml) has no share",
            ],
        ),
        (
            GOOD_ROWS + "before,Yes,100,Somewhere,2021\n",
            ["baseline.csv: before: no question with this id is compared with the baseline"],
        ),
        (
            GOOD_ROWS + "shoes,Big,100,Somewhere,2021\n",
            ["baseline.csv: shoes: no question with this id is compared with the baseline"],
        ),
        (
            GOOD_ROWS.replace("age,40 or over,49.5", "age,Under 40,49.5"),
            [
                "baseline.csv: age: 'Under 40' has more than one share",
                "baseline.csv: age: '40 or over' (an answer in prompts/profile/en.toml) has no",
            ],
        ),
        (GOOD_ROWS.replace("50.5", "lots"), ["baseline.csv:2: share: write the share as a number"]),
        (GOOD_ROWS.replace("50.5", "-1"), ["baseline.csv:2: share: Input should be greater than"]),
        (
            GOOD_ROWS.replace("2021-03-21", "March 2021", 1),
            ["baseline.csv:2: date: write the date of the figures as YYYY, YYYY-MM or YYYY-MM-DD"],
        ),
        (GOOD_ROWS + "age,Under 40\n", ["baseline.csv:7: expected 5 columns, found 2"]),
    ],
)
def test_baseline_problems_name_the_file_line_and_category(
    rows: str, expected: list[str], tmp_path: Path
) -> None:
    found = problems(content(tmp_path, HEADER + rows))
    assert len(found) == len(expected), found
    for line, start in zip(found, expected, strict=True):
        assert start in line


def test_a_wrong_header_is_one_clear_problem(tmp_path: Path) -> None:
    root = content(tmp_path, "group,answer,percent\n" + GOOD_ROWS)
    (problem,) = problems(root)
    assert problem.endswith("baseline.csv:1: the first line must name the columns: " + HEADER[:-1])


def test_an_example_baseline_is_a_warning_until_replaced(tmp_path: Path) -> None:
    rows = GOOD_ROWS.replace("Census 2021 TS021", "EXAMPLE made up", 1)
    found, library = collect(content(tmp_path, HEADER + rows))
    (problem,) = [p for p in found if p.path.name == "baseline.csv"]
    assert problem.warning and problem.field == "source"
    assert library.baseline is not None and library.baseline.example


def test_a_compared_question_without_population_shares_is_a_warning(tmp_path: Path) -> None:
    rows = "".join(line + "\n" for line in GOOD_ROWS.splitlines() if line.startswith("age"))
    found, _ = collect(content(tmp_path, HEADER + rows))
    (problem,) = [p for p in found if p.path.name == "baseline.csv"]
    assert problem.warning
    assert "question 'ethnic' in prompts/profile/en.toml has no population shares" in str(problem)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('"White" = ["Irish"]', '"White" = ["Irish", "Welsh"]'),
            "groups name options the question does not have: Welsh",
        ),
        (
            ('"White" = ["Irish"]', '"White" = ["Irish", "Indian"]'),
            "options are in more than one group: Indian",
        ),
        (('"White" = ["Irish"]', ""), "options are in no group: Irish"),
        (('id = "before"', 'id = "age"'), "question ids are used twice: age"),
        (
            ('options = ["Yes", "No"]', 'options = ["Yes", "No", "Prefer not to say"]'),
            "'Prefer not to say' is added to every question; remove it from the options of: before",
        ),
        (
            ('options = ["Yes", "No"]', f"options = {[str(n) for n in range(24)]}"),
            "questions[3].options: Tuple should have at most 23 items",
        ),
        (('options = ["Yes", "No"]', 'options = ["Yes", "Yes"]'), "options are listed twice: Yes"),
        (('label = "Age group"\n', ""), "questions[1].label: this field is required"),
    ],
)
def test_profile_question_problems_are_said_so_staff_can_fix_them(
    change: tuple[str, str], expected: str, tmp_path: Path
) -> None:
    root = content(tmp_path, None, QUESTIONS.replace(*change))
    found = problems(root)
    assert any(expected in line for line in found), found
    assert all("prompts/profile/en.toml" in line for line in found)


def test_a_profile_file_must_be_named_after_its_language(tmp_path: Path) -> None:
    root = content(tmp_path, None)
    (root / "prompts" / "profile" / "en.toml").rename(root / "prompts" / "profile" / "fr.toml")
    found, library = collect(root, "fr")
    assert library.profiles == {}
    assert [p.field for p in found if isinstance(p, Problem) and "fr.toml" in str(p.path)] == [
        "language"
    ]
