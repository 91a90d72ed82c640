"""A class marked against an exercise set drawn in one textbook's notation, where a student
answers in another book's names and says so (`notation:`): every answer is marked as the
quantity it names, in the set's column for that quantity — never "unanswered" because the
names differ. A teacher's --notation that differs from the set's is refused: the sheets gave
the students the set's names.

Every value is worked here, by hand with numpy, from the variant's config: the lecture's
equations for a 2-2-1 sigmoid network, no biases, ½e² (the course notes' worked example).
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml

from backtrace_cli.cli import cli


def worked(config: dict) -> dict[str, float]:
    """One step of the variant, by quantity, in the lecture's sign (δ = −∂E/∂net), with
    numpy's matrices: row j of a layer's W holds the weights into its unit j."""
    w = config["weights"]
    x = np.array(config["inputs"], dtype=float)
    t = np.array(config["targets"], dtype=float)
    hidden = np.array([[w["w13"], w["w23"]], [w["w14"], w["w24"]]])
    output = np.array([[w["w35"], w["w45"]]])
    net_h = hidden @ x
    o_h = 1.0 / (1.0 + np.exp(-net_h))
    net_o = output @ o_h
    o_o = 1.0 / (1.0 + np.exp(-net_o))
    e = t - o_o
    delta_o = o_o * (1.0 - o_o) * e
    delta_h = o_h * (1.0 - o_h) * (output.T @ delta_o)
    eta = config["learning_rate"]
    changes = {
        (3, 4): eta * np.outer(delta_o, o_h)[0],  # into unit 5 from units 3, 4
        (1, 2): eta * np.outer(delta_h, x),  # into units 3, 4 from inputs 1, 2
    }
    out = dict(zip(["net3", "net4", "net5"], [*net_h, *net_o]))
    out |= dict(zip(["o3", "o4", "o5"], [*o_h, *o_o]))
    out |= {"e5": e[0], "E": 0.5 * float(e @ e), "delta5": delta_o[0]}
    out |= {"delta3": delta_h[0], "delta4": delta_h[1]}
    for name in ("w35", "w45", "w13", "w23", "w14", "w24"):
        i, j = int(name[1]), int(name[2])
        dw = changes[(3, 4)][i - 3] if j == 5 else changes[(1, 2)][j - 3, i - 1]
        out["d" + name] = float(dw)
        out["new " + name] = w[name] + float(dw)
    return {k: float(v) for k, v in out.items()}


# Each quantity's name in the lecture's notation and in Hagan's (layer m = 1 hidden, M = 2
# output; his s = ∂F/∂n is the lecture's δ with the other sign; an updated weight by its plain
# name, as students type it).
HAGAN = {
    "net3": "n^1_1",
    "o3": "a^1_1",
    "net4": "n^1_2",
    "o4": "a^1_2",
    "net5": "n^2_1",
    "o5": "a^2_1",
    "e5": "e_1",
    "E": "F",
    "delta5": "s^2_1",
    "delta3": "s^1_1",
    "delta4": "s^1_2",
}
WEIGHTS = {"w35": "2_1,1", "w45": "2_1,2", "w13": "1_1,1", "w23": "1_1,2"}
WEIGHTS |= {"w14": "1_2,1", "w24": "1_2,2"}


def answers(config: dict, book: str) -> dict[str, float]:
    """Every answer of the variant, written in `book`'s names and sign."""
    done = worked(config)
    out = {}
    for quantity, value in done.items():
        if book == "lecture":
            name = quantity.replace("new ", "")
        elif quantity.startswith("new "):
            name = "w^" + WEIGHTS[quantity[4:]]
        elif quantity.startswith("dw"):
            name = "dw^" + WEIGHTS[quantity[1:]]
        else:
            name = HAGAN[quantity]
        sign = -1 if book == "hagan" and quantity.startswith("delta") else 1
        out[name] = round(sign * value, 7)
    return out


@pytest.fixture
def drawn(runner, tmp_path):
    """A set of two variants of the lecture example, drawn in Nielsen's notation."""
    folder = tmp_path / "set"
    args = ["exercise", "lecture", "--variants", "2", "--seed", "3", "--notation", "nielsen"]
    assert runner.invoke(cli, [*args, "-o", str(folder)]).exit_code == 0
    manifest = json.loads((folder / "exercise.json").read_text(encoding="utf-8"))
    configs = {}
    for ident, entry in manifest["variants"].items():
        configs[ident] = yaml.safe_load((folder / entry["config"]).read_text(encoding="utf-8"))
        assert configs[ident]["notation"] == "nielsen"
        assert entry["questions"][:2] == ["z^2_1", "a^2_1"]
    return folder, configs


def hand_in(tmp_path, name: str, ident: str, book: str, given: dict[str, float]) -> str:
    path = tmp_path / f"{name}.yaml"
    doc = {"variant": ident, "student": name, "notation": book, "answers": given}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_answers_in_another_books_names_fill_the_sets_columns(runner, tmp_path, drawn):
    """Against a Nielsen set, one student answers in the lecture's names, one in Hagan's
    (with his sign of δ), each saying so; the Hagan file has one slip. Every one of the 23
    columns is filled: all right for the first, all but the slipped one for the second."""
    folder, configs = drawn
    first, second = configs
    lecture = hand_in(tmp_path, "Lee", first, "lecture", answers(configs[first], "lecture"))
    slipped = answers(configs[second], "hagan")
    slipped["s^1_2"] += 0.25
    hagan = hand_in(tmp_path, "Hal", second, "hagan", slipped)
    book = tmp_path / "grades.csv"
    args = ["check", "--exercises", str(folder), lecture, hagan, "--gradebook", str(book)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1, result.output
    lee, hal = csv.DictReader(book.read_text(encoding="utf-8-sig").splitlines())
    columns = json.loads((folder / "exercise.json").read_text(encoding="utf-8"))
    columns = columns["variants"][first]["questions"]
    assert len(columns) == 23
    assert (lee["mark"], lee["total"]) == ("23", "23")
    assert {lee[c] for c in columns} == {"right"}
    assert (hal["mark"], hal["total"]) == ("22", "23")
    assert [c for c in columns if hal[c] != "right"] == ["delta^2_2"]


def test_a_file_that_says_its_book_is_read_in_it_even_with_the_sets_notation_given(
    runner, tmp_path, drawn
):
    """--notation nielsen is the set's own: the lecture's names of a file that says
    `notation: lecture` are still read as the lecture's, all 23 right."""
    folder, configs = drawn
    ident = next(iter(configs))
    lecture = hand_in(tmp_path, "Lee", ident, "lecture", answers(configs[ident], "lecture"))
    args = ["check", "--exercises", str(folder), lecture, "--notation", "nielsen"]
    result = runner.invoke(cli, [*args, "--format", "json"])
    report = json.loads(result.output)
    assert (report["correct"], report["total"], report["unanswered"]) == (23, 23, [])


def test_a_teachers_notation_other_than_the_sets_is_refused(runner, tmp_path, drawn):
    folder, configs = drawn
    ident = next(iter(configs))
    lecture = hand_in(tmp_path, "Lee", ident, "lecture", answers(configs[ident], "lecture"))
    book = tmp_path / "grades.csv"
    args = ["check", "--exercises", str(folder), lecture, "--notation", "hagan"]
    result = runner.invoke(cli, [*args, "--gradebook", str(book)])
    assert result.exit_code == 2
    assert "--notation: hagan, but this set's sheets name their quantities in the nielsen" in (
        result.output
    )
    assert "Traceback" not in result.output and not book.exists()
