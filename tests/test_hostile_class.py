"""A class folder is hostile input: with --gradebook, what a file is marked against comes from
the teacher (a built-in example's name at most), never from a path or a network in the file."""

from __future__ import annotations

import csv

from click.testing import CliRunner

from backtrace_cli.cli import cli

ANSWER = "answers: {net3: 0.755}\n"  # the notes' net3 = 0.1·0.35 + 0.8·0.9


def _rows(tmp_path, files: dict[str, str]) -> tuple[int, list[dict[str, str]]]:
    folder = tmp_path / "class"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    grades = tmp_path / "g.csv"
    result = CliRunner().invoke(cli, ["check", str(folder), "--gradebook", str(grades)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    with grades.open(encoding="utf-8-sig") as stream:
        return result.exit_code, list(csv.DictReader(stream))


def test_a_students_path_is_refused_in_the_same_words_whether_or_not_it_exists(tmp_path):
    secret = tmp_path / "key.yaml"
    secret.write_text("layers: [1, 1]\ninputs: [1]\ntargets: [1]\nweights: [[[0.5]]]\n")
    status, rows = _rows(
        tmp_path,
        {
            "exists.yaml": f"exercise: {secret}\n{ANSWER}",
            "missing.yaml": f"exercise: {tmp_path / 'nothing.yaml'}\n{ANSWER}",
            "up.yaml": f"exercise: ../key.yaml\n{ANSWER}",
        },
    )
    assert status == 2
    words = {r["error"].split(": ", 1)[1] for r in rows}  # after "FILE, line 1, column 1, …"
    assert len(words) == 1, words
    (said,) = words
    assert said.startswith("only a built-in example's name is followed (adam, ")
    assert said.endswith(
        "a class is marked against what the teacher gives (--exercises DIR, --exercise CONFIG)"
    )
    assert all(r["error"].split(", ")[1:3] == ["line 1", "column 1"] for r in rows)


def test_an_inline_network_is_an_error_row_and_a_built_in_name_is_marked(tmp_path):
    status, rows = _rows(
        tmp_path,
        {
            "a.yaml": f"exercise: lecture\n{ANSWER}",
            "b.yaml": "config: {layers: [1, 1], inputs: [1], targets: [1], "
            "weights: [[[0.5]]]}\nanswers: {o2: 0.6}\n",
        },
    )
    assert status == 2
    assert (rows[0]["mark"], rows[0]["net3"], rows[0]["error"]) == ("1", "right", "")
    assert rows[1]["mark"] == ""
    assert rows[1]["error"] == (
        f"{tmp_path / 'class' / 'b.yaml'}, line 1, column 1, config: a network written in the "
        "file is not marked: a class is marked against what the teacher gives "
        "(--exercises DIR, --exercise CONFIG)"
    )


def test_a_name_with_a_carriage_return_and_escapes_keeps_its_row_whole(tmp_path):
    """`\\r` alone would split a CSV row for a reader, and ESC would reach a teacher's terminal:
    the gradebook writes every control character as an escape."""
    status, rows = _rows(
        tmp_path,
        {"a.yaml": f'exercise: lecture\nstudent: "Eve\\e]52;c;aGk=\\a\\r"\n{ANSWER}'},
    )
    assert status == 1
    assert [(r["student"], r["net3"]) for r in rows] == [("Eve\\x1b]52;c;aGk=\\x07\\x0d", "right")]
    assert "\x1b" not in (tmp_path / "g.csv").read_text(encoding="utf-8-sig")


def test_a_link_given_by_name_in_a_class_may_not_lead_out_of_its_folder(tmp_path):
    """`check --exercise lecture class/*.yaml`: the shell names each file, and a link among
    them to /etc/passwd is still an error row, never read."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "a.yaml").write_text(f"student: A\n{ANSWER}")
    (folder / "b.yaml").symlink_to("/etc/passwd")
    grades = tmp_path / "g.csv"
    files = [str(folder / "a.yaml"), str(folder / "b.yaml")]
    result = CliRunner().invoke(
        cli, ["check", "--exercise", "lecture", *files, "--gradebook", str(grades)]
    )
    assert result.exit_code == 2
    with grades.open(encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["student"], r["net3"]) for r in rows] == [("A", "right"), ("b", "")]
    assert rows[1]["error"] == (
        f"{folder / 'b.yaml'}: is a link that leads out of the folder {folder}; "
        "only files in it are read"
    )
    assert "root:" not in result.output + grades.read_text(encoding="utf-8-sig")


def test_without_a_gradebook_a_files_exercise_is_followed_only_inside_its_folder(tmp_path):
    """`check answers/` marks each file against the exercise it names, as `check FILE` does,
    but a path leading out of the folder — absolute, `../`, or through a link — is that file's
    error line, never opened; a config inside the folder is followed, and the run goes on."""
    outside = tmp_path / "key.yaml"
    outside.write_text(
        "layers: [1, 1]\nactivation: sigmoid\nlearning_rate: 1\ninputs: [1]\ntargets: [1]\n"
        "weights: [[[0.5]]]\n"
    )
    folder = tmp_path / "class"
    (folder / "cfg").mkdir(parents=True)
    (folder / "cfg" / "net.yaml").write_text(outside.read_text())
    (folder / "out").symlink_to(tmp_path)
    files = {
        "a_abs.yaml": f"exercise: {outside}\nanswers: {{o2: 0.6}}\n",
        "b_up.yaml": "exercise: ../key.yaml\nanswers: {o2: 0.6}\n",
        "c_link.yaml": "exercise: out/key.yaml\nanswers: {o2: 0.6}\n",
        # net2 = 0.5·1 and o2 = σ(0.5) = 0.6225, worked here
        "d_in.yaml": "exercise: cfg/net.yaml\nanswers: {o2: 0.6225}\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    for name, written in (("a_abs", "/"), ("b_up", "../key.yaml"), ("c_link", "out/key.yaml")):
        line = next(line for line in lines if f"{name}.yaml" in line)
        assert line.startswith(f"{folder / name}.yaml, line 1, column 1, exercise: '{written}")
        assert line.endswith(  # a long path is cut, as every student's text is
            f"' is not in the folder {folder}; in a class a file's exercise is a built-in "
            "example or a config in that folder (check the file on its own to follow another "
            "path)"
        )
    assert any("d_in.yaml" in line and "1 of" in line for line in lines), lines
    assert lines[-1] == "4 files: 0 all right, 1 with a wrong or missing answer, 3 unreadable"


def test_an_exercise_written_as_a_mapping_is_the_files_error_not_a_crash(tmp_path):
    """`exercise:` names an example or a path; a config written under it (where `config:`
    goes) was passed on as if it were a loaded model, and crashed a class's marking."""
    text = "exercise:\n  layers: [1, 1]\n  inputs: [1]\nanswers: {o2: 0.6}\n"
    said = (
        "line 1, column 1, exercise: names a built-in example or a config's path (`exercise: "
        "lecture`); a config written in the file goes under `config:` instead"
    )
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "a.yaml").write_text(text)
    (folder / "b.yaml").write_text("exercise: [lecture]\nanswers: {o2: 0.6}\n")
    alone = CliRunner().invoke(cli, ["check", str(folder / "a.yaml")])
    assert alone.exit_code == 2
    assert alone.output == f"Error: {folder / 'a.yaml'}, {said}\n"
    many = CliRunner().invoke(cli, ["check", str(folder)])
    assert many.exception is None or isinstance(many.exception, SystemExit), many.output
    assert f"{folder / 'a.yaml'}, {said}" in many.output
    assert (
        f"{folder / 'b.yaml'}, line 1, column 1, exercise: expected a built-in example's name "
        "or a config's path, e.g. `exercise: lecture`"
    ) in many.output


def test_an_exercise_that_is_neither_a_file_nor_an_example_names_the_answers_line(tmp_path):
    sheet = tmp_path / "a.yaml"
    sheet.write_text("student: A\nexercise: lectur\nanswers: {o5: 0.69}\n")
    result = CliRunner().invoke(cli, ["check", str(sheet)])
    assert result.exit_code == 2
    assert result.output.startswith(
        f"Error: {sheet}, line 2, column 1, exercise: 'lectur': no such file, and no built-in "
        "example of that name; did you mean 'lecture'? built-in: "
    )


def test_a_config_that_is_not_a_mapping_is_the_files_error_not_a_crash(tmp_path):
    """`config: []` was passed on as if it were a loaded model (found by fuzzing)."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "a.yaml").write_text("student: A\nconfig: []\nanswers: {o5: 0.69}\n")
    said = (
        f"{folder / 'a.yaml'}, line 2, column 1, config: expected a built-in example's name or "
        "a config's path, e.g. `config: lecture`, or the config written out (`config: "
        "{layers: [2, 2, 1], …}`)"
    )
    alone = CliRunner().invoke(cli, ["check", str(folder / "a.yaml")])
    assert (alone.exit_code, alone.output) == (2, f"Error: {said}\n")
    many = CliRunner().invoke(cli, ["check", str(folder), str(folder / "a.yaml")])
    assert many.exception is None or isinstance(many.exception, SystemExit), many.output
    assert many.output.count(said) == 2
