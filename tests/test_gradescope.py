"""`backtrace check SUBMISSION --exercises DIR --format gradescope`: Gradescope's results.json.

The JSON is validated against tests/gradescope_results.schema.json, written from Gradescope's
documented format (the schema names its source), with the `jsonschema` library. The scores are
derived here: the submissions are worked by hand from the lecture's formulas (test_gradebook's
`solve`), and what each answered question is worth is read off the section it belongs to."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from test_gradebook import EXERCISE, answers_file, solve

from backtrace_cli.cli import cli

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
ASKED = "net,o,e,E,delta,dw35,w35"
QUESTIONS = ["net3", "o3", "net4", "o4", "net5", "o5", "e5", "E", "delta5", "delta3", "delta4",
             "dw35", "w35"]  # fmt: skip
SECTION = {"net3": "forward", "o3": "forward", "net4": "forward", "o4": "forward",
           "net5": "forward", "o5": "forward", "e5": "error", "E": "error", "delta5": "delta",
           "delta3": "delta", "delta4": "delta", "dw35": "update", "w35": "update"}  # fmt: skip
POINTS = "delta=2,update=3,E=0.5"  # the last entry naming a question wins: E is 0.5


def worth(name: str) -> float:
    """POINTS read by hand: a δ 2, an update 3, E 0.5, anything else 1."""
    if name == "E":
        return 0.5
    return {"delta": 2.0, "update": 3.0}.get(SECTION[name], 1.0)


def exercise_set(root: Path, name: str) -> Path:
    """`backtrace exercise` of test_gradebook's homework: two variants asking ASKED, in
    root/name."""
    from click.testing import CliRunner

    (root / "hw3.yaml").write_text(EXERCISE)
    folder = root / name
    made = CliRunner().invoke(
        cli,
        ["exercise", str(root / "hw3.yaml"), "--variants", "2", "--seed", "5", "-o", str(folder),
         "--ask", ASKED],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return folder


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A teacher's set of two variants, and the variant's config the students work from."""
    folder = exercise_set(tmp_path_factory.mktemp("course"), "exercise")
    ident = "hw3-s5-v01"
    cfg = yaml.safe_load((folder / "configs" / f"{ident}.yaml").read_text())
    return folder, ident, cfg


def results(runner, course, tmp_path, values: dict | str, *options: str) -> tuple[dict, int]:
    """One submission (a folder with one answers file: these values, or this text) marked
    into results.json."""
    folder, ident, _ = course
    submission = tmp_path / "submission"
    submission.mkdir()
    if isinstance(values, dict):
        values = yaml.safe_dump({"variant": ident, "answers": values}, allow_unicode=True)
    (submission / "answers.yaml").write_text(values)
    out = tmp_path / "results.json"
    result = runner.invoke(
        cli,
        ["check", str(submission), "--exercises", str(folder), "--format", "gradescope",
         "-o", str(out), *options],
    )  # fmt: skip
    assert out.exists(), result.output
    data = json.loads(out.read_text())
    VALIDATOR.validate(data)
    return data, result.exit_code


def by_name(data: dict) -> dict[str, dict]:
    return {test["name"].split(" ")[0]: test for test in data["tests"]}


def test_a_right_submission_scores_every_point(runner, course, tmp_path):
    _, _, cfg = course
    data, status = results(runner, course, tmp_path, solve(cfg), "--points", POINTS)
    assert status == 0
    tests = by_name(data)
    assert list(tests) == QUESTIONS  # one test a question, in the step's order
    total = sum(worth(q) for q in QUESTIONS)  # 6 forward + e5 + 0.5 + 3 δ·2 + 2 updates·3
    assert total == 19.5
    assert data["score"] == total
    for name, test in tests.items():
        assert test["max_score"] == test["score"] == worth(name), name
        assert test["status"] == "passed" and test["visibility"] == "visible"
        assert test["output"].startswith("right — you wrote ")
        assert " = " in test["output"].splitlines()[1]  # the working with its numbers
    assert "13 of 13 questions" in data["output"] and "Points: 19.5 of 19.5" in data["output"]


def test_a_named_slip_loses_only_its_question(runner, course, tmp_path):
    """Δw subtracted: w35 wrong, everything before it right."""
    _, _, cfg = course
    data, status = results(runner, course, tmp_path, solve(cfg, "subtracted"), "--points", POINTS)
    assert status == 1
    assert data["score"] == 19.5 - worth("w35") == 16.5
    w35 = by_name(data)["w35"]
    assert (w35["score"], w35["max_score"], w35["status"]) == (0, 3, "failed")
    lines = w35["output"].splitlines()
    assert lines[0].startswith("wrong — you wrote ")
    assert "Δw subtracted" in w35["output"]  # the named mistake
    # the working with the right numbers: w35 + Δw35, its value the one solved by hand
    assert lines[1].replace("−", "-").endswith(f" = {solve(course[2])['w35']:.6f}")


def test_an_error_carried_forward_earns_full_credit(runner, course, tmp_path):
    """o3 wrong by 0.1; net5 worked from that o3 follows from it: its point is earned."""
    _, _, cfg = course
    right = solve(cfg)
    w = cfg["weights"]
    o3 = right["o3"] + 0.1
    values = {"net3": right["net3"], "o3": o3, "net4": right["net4"], "o4": right["o4"],
              "net5": w["w35"] * o3 + w["w45"] * right["o4"]}  # fmt: skip
    data, status = results(runner, course, tmp_path, values)  # default: 1 a question
    assert status == 1
    assert data["score"] == 4  # net3, net4, o4 right; net5 follows; o3 wrong
    tests = by_name(data)
    assert sum(t["max_score"] for t in tests.values()) == len(QUESTIONS)
    net5 = tests["net5"]
    assert (net5["score"], net5["status"]) == (1, "passed")
    assert net5["output"].startswith("follows from your o3")
    assert "error carried forward" in net5["output"]
    assert tests["o3"]["score"] == 0


def test_an_unanswered_question_shows_no_key(runner, course, tmp_path):
    """A blank submission must not fetch the answers: an unanswered question's feedback has
    no number in it."""
    _, _, cfg = course
    right = solve(cfg)
    data, _ = results(runner, course, tmp_path, {"net3": right["net3"]}, "--visibility",
                      "after_due_date")  # fmt: skip
    assert data["score"] == 1
    for name, test in by_name(data).items():
        assert test["visibility"] == "after_due_date"
        if name != "net3":
            assert test["output"] == "unanswered: not in your answers file", name
            assert not any(ch.isdigit() for ch in test["output"])


def test_a_student_s_text_is_shown_as_text(runner, course, tmp_path):
    """A name Gradescope's simple_format would read as markup is escaped; test outputs are
    plain text."""
    data, _ = results(runner, course, tmp_path, {"net3": 1.5, "o3x": 0.5})
    assert data["output_format"] == "simple_format"
    assert "o3x: not marked" in data["output"]  # the typo named, with the names near it
    assert all(t["output_format"] == "text" for t in data["tests"])


def test_markup_in_a_variant_name_is_escaped(runner, course, tmp_path):
    data, status = results(runner, course, tmp_path, "variant: <b>x</b>\nanswers: {net3: 1}\n")
    assert status == 2
    assert data["score"] == 0 and data["tests"] == []
    assert "&lt;b&gt;x&lt;/b&gt;" in data["output"] and "<b>" not in data["output"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--points", "2"], "--points weighs the score of --format gradescope"),
        (["--visibility", "hidden"], "--visibility is Gradescope's"),
        (["--gradebook-format", "canvas"], "--gradebook-format canvas: give the file"),
        (["--format", "gradescope", "--gradebook", "g.csv"], "give one of them"),
        (["--format", "gradescope", "--points", "delta"], "a weight is a number"),
        (["--format", "gradescope", "--points", "=2"], "name what it weighs"),
        (["--format", "gradescope", "--points", "delta=-1"], "from 0 to 1000"),
        (["--format", "gradescope", "--points", "zeta=2"], "zeta=2: 'zeta' is not a quantity"),
    ],
)
def test_the_teacher_s_mistakes_are_usage_errors(runner, course, tmp_path, args, said):
    """An option that does not fit, or --points naming nothing of the step: exit 2, said,
    nothing written."""
    folder, ident, cfg = course
    submission = tmp_path / "answers.yaml"
    answers_file(submission, ident, solve(cfg), "o3")
    out = tmp_path / "results.json"
    result = runner.invoke(
        cli, ["check", str(submission), "--exercises", str(folder), *args, "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and not (tmp_path / "g.csv").exists()


def test_the_schema_refuses_what_gradescope_does_not_document():
    """The schema can fail: a misspelt key, an unknown visibility, no score anywhere."""
    good = {"score": 1, "tests": [{"name": "a", "score": 1, "max_score": 1}]}
    VALIDATOR.validate(good)
    for bad in (
        {**good, "scroe": 1},
        {**good, "tests": [{"name": "a", "score": 1, "max_score": 1, "visibility": "never"}]},
        {"tests": [{"name": "a", "max_score": 1}]},
        {"score": "1"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(bad)
