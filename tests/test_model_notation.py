"""`--notation BOOK` on a `model:` of tensor layers: each layer's tensors in the book's letters
(Nielsen's z^l, a^l, δ^l, w^l; Hagan's n^m, a^m, s^m; Mazur's net_h1, out_o), torch's index
brackets kept, and δ in the book's sign (+∂loss/∂…, the opposite of the lecture's).

Every number expected here is worked in this file: the conv1d example's step in Nielsen's
sign with numpy (its gradients also against central finite differences of the same forward),
an rnn's through `rnn_by_hand` (numpy, torch's documented formulas); every name is written by
hand from each book's conventions (docs/layers.md, "Its names in each book").
"""

from __future__ import annotations

import copy
import csv
import json
import re
from typing import NamedTuple

import numpy as np
import pytest
import yaml
from conftest import MODELS
from rnn_by_hand import worked as rnn_worked
from test_rnn_stacked import TWO

from backtrace_cli import api
from backtrace_cli.cli import cli

BOOKS = ("nielsen", "hagan", "mazur")

# ---------------------------------------------------------------- conv1d, worked by hand


class Numbers(NamedTuple):
    """conv1d(1→2, k=2) → relu → maxpool1d(2) → flatten → linear(4→1), mse, one SGD step."""

    x: np.ndarray  # the signal, six positions
    w0: np.ndarray  # [out channel][k]
    b0: np.ndarray
    w4: np.ndarray  # [4]
    b4: float
    target: float = 0.8
    eta: float = 0.1

    @classmethod
    def of(cls, config: dict) -> Numbers:
        p = {name: np.array(value, dtype=float) for name, value in config["parameters"].items()}
        x = np.array(config["inputs"], dtype=float)[0]
        return cls(x, p["0.weight"][:, 0, :], p["0.bias"], p["4.weight"][0], float(p["4.bias"][0]))


EXAMPLE = Numbers(  # configs/conv1d.yaml
    np.array([1.0, 0.2, -0.5, 0.9, 0.4, -1.2]),
    np.array([[0.5, -0.3], [-0.2, 0.8]]),
    np.array([0.1, 0.3]),
    np.array([0.3, -0.6, 0.7, 0.2]),
    0.05,
)


def conv1d_forward(n: Numbers) -> dict:
    x, w0 = n.x, n.w0
    z1 = np.array(
        [[n.b0[c] + w0[c, 0] * x[t] + w0[c, 1] * x[t + 1] for t in range(5)] for c in (0, 1)]
    )
    a1 = np.maximum(z1, 0.0)
    kept = np.array(
        [[2 * s + int(a1[c, 2 * s + 1] > a1[c, 2 * s]) for s in (0, 1)] for c in (0, 1)]
    )
    a2 = np.array([[a1[c, kept[c, s]] for s in (0, 1)] for c in (0, 1)])
    z3 = float(n.w4 @ a2.ravel() + n.b4)
    return {"z1": z1, "a1": a1, "kept": kept, "a2": a2, "z3": z3, "C": (z3 - n.target) ** 2}


def conv1d_step(n: Numbers = EXAMPLE) -> dict[tuple[str, tuple[int, ...]], float]:
    """The step in Nielsen's sign (δ = +∂C/∂z), by quantity: ("z1", (c, t)) is the conv's
    weighted input, ("d1", …) its δ, ("dA2", …) ∂C/∂(the pool's output), ("gw1", …) ∂C/∂w of
    the conv; "1" the conv and its relu, "2" the pool, "3" the linear output layer."""
    f = conv1d_forward(n)
    z1, a1, kept, a2, z3 = f["z1"], f["a1"], f["kept"], f["a2"], f["z3"]
    d3 = 2 * (z3 - n.target)  # ∂C/∂z of C = (z − y)², the output a weighted input
    dA2 = (n.w4 * d3).reshape(2, 2)
    dA1 = np.zeros((2, 5))
    for c in (0, 1):
        for s in (0, 1):
            dA1[c, kept[c, s]] = dA2[c, s]  # the max-pool's δ to the input it kept
    d1 = (z1 > 0) * dA1
    gw1 = np.array(
        [[[sum(d1[c, t] * n.x[t + k] for t in range(5)) for k in (0, 1)]] for c in (0, 1)]
    )
    gb1 = d1.sum(axis=1)
    gw3, gb3 = d3 * a2.ravel(), d3
    out: dict[tuple[str, tuple[int, ...]], float] = {}

    def put(name: str, array) -> None:
        array = np.asarray(array, dtype=float)
        out.update({(name, i): float(array[i]) for i in np.ndindex(*array.shape)})

    put("z1", z1), put("a1", a1), put("a2", a2), put("z3", [z3]), put("e", [n.target - z3])
    put("C", f["C"]), put("d3", [d3]), put("dA2", dA2), put("gw3", [gw3]), put("gb3", [gb3])
    put("dA1", dA1), put("d1", d1), put("gw1", gw1), put("gb1", gb1)
    put("nw1", n.w0[:, None, :] - n.eta * gw1), put("nb1", n.b0 - n.eta * gb1)
    put("nw3", [n.w4 - n.eta * gw3]), put("nb3", [n.b4 - n.eta * gb3])
    return out


def test_the_hand_worked_gradients_are_central_finite_differences():
    step, h = conv1d_step(), 1e-6
    for c, k in np.ndindex(2, 2):
        up, down = EXAMPLE.w0.copy(), EXAMPLE.w0.copy()
        up[c, k] += h
        down[c, k] -= h
        moved = [conv1d_forward(EXAMPLE._replace(w0=w))["C"] for w in (up, down)]
        assert step["gw1", (c, 0, k)] == pytest.approx((moved[0] - moved[1]) / (2 * h), abs=1e-7)
    for j in range(4):
        up, down = EXAMPLE.w4.copy(), EXAMPLE.w4.copy()
        up[j] += h
        down[j] -= h
        moved = [conv1d_forward(EXAMPLE._replace(w4=w))["C"] for w in (up, down)]
        assert step["gw3", (0, j)] == pytest.approx((moved[0] - moved[1]) / (2 * h), abs=1e-7)


# Each quantity's name in each book, written by hand from its conventions: Nielsen numbers
# layers from 1 (the input a^1; the conv and its relu are layer 2, the pool 3, the linear L = 4),
# Hagan from 0 (the input p; then 1, 2, M = 3), Mazur names them i, h1, h2, o.
HEADS = {
    "nielsen": {
        "z1": "z^2", "a1": "a^2", "a2": "a^3", "z3": "z^4", "e": "e", "d3": "δ^4",
        "dA2": "∂C/∂a^3", "gw3": "∂C/∂w^4", "gb3": "∂C/∂b^4", "dA1": "∂C/∂a^2",
        "d1": "δ^2", "gw1": "∂C/∂w^2", "gb1": "∂C/∂b^2",
        "nw1": "new w^2", "nb1": "new b^2", "nw3": "new w^4", "nb3": "new b^4",
    },
    "hagan": {
        "z1": "n^1", "a1": "a^1", "a2": "a^2", "z3": "n^3", "e": "e", "d3": "s^3",
        "dA2": "∂F/∂a^2", "gw3": "∂F/∂w^3", "gb3": "∂F/∂b^3", "dA1": "∂F/∂a^1",
        "d1": "s^1", "gw1": "∂F/∂w^1", "gb1": "∂F/∂b^1",
        "nw1": "w^1|(k+1)", "nb1": "b^1|(k+1)", "nw3": "w^3|(k+1)", "nb3": "b^3|(k+1)",
    },
    "mazur": {
        "z1": "net_h1", "a1": "out_h1", "a2": "out_h2", "z3": "net_o", "e": "e_o",
        "d3": "δ_o", "dA2": "∂E_total/∂out_h2", "gw3": "∂E_total/∂w_o",
        "gb3": "∂E_total/∂b_o", "dA1": "∂E_total/∂out_h1", "d1": "δ_h1",
        "gw1": "∂E_total/∂w_h1", "gb1": "∂E_total/∂b_h1",
        "nw1": "w_h1|⁺", "nb1": "b_h1|⁺", "nw3": "w_o|⁺", "nb3": "b_o|⁺",
    },
}  # fmt: skip
LOSS = {"nielsen": "C", "hagan": "F", "mazur": "E_total"}


def named(book: str, quantity: str, index: tuple[int, ...]) -> str:
    """A quantity's name in the book: its head, torch's index in brackets (an updated
    parameter's mark after it: Hagan's w^1[0,0,1](k+1), Mazur's w_h1[0,0,1]⁺)."""
    if quantity == "C":
        return LOSS[book]
    head, _, mark = HEADS[book][quantity].partition("|")
    return f"{head}[{','.join(map(str, index))}]{mark}"


def rows(traced) -> dict[str, float]:
    return {row.symbol: row.value for step in traced.steps for _, row in step.equations()}


@pytest.mark.parametrize("book", BOOKS)
def test_the_conv1d_step_in_each_book_is_every_row_worked_by_hand(book):
    """Every row the trace writes, and no other, under the book's name with the value worked
    here: its δ the book's (+∂C/∂z: the lecture's negated), its gradients ∂C/∂w unchanged."""
    expected = {named(book, q, i): v for (q, i), v in conv1d_step().items()}
    found = rows(api.trace("conv1d", notation=book).records)
    assert set(found) == set(expected)
    assert found == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_a_lecture_names_torch_and_a_book_its_own_in_the_header_and_the_json(runner):
    result = runner.invoke(cli, ["run", "conv1d", "--notation", "nielsen"])
    assert result.exit_code == 0, result.output
    assert "Nielsen's notation: layer l's weighted input z^l and activation a^l" in result.output
    assert "inputs a^1 = [1, 0.2, −0.5, 0.9, 0.4, −1.2] (1×6) · targets y = [0.8]" in result.output
    assert "Forward · layer 0 (conv1d), l = 2" in result.output
    assert "each weight w^4[j,i]'s gradient δ^4_j·a^3_i, each bias b^4_j's δ^4_j" in result.output
    assert "the output's δ^4 = ∂C/∂z^4 = (2/1)(z^4 − y)" in result.output
    as_json = ["run", "conv1d", "--notation", "nielsen", "--format", "json"]
    book = json.loads(runner.invoke(cli, as_json).output)
    lecture = json.loads(runner.invoke(cli, ["run", "conv1d", "--format", "json"]).output)
    assert book["notation"] == "nielsen" and "notation" not in lecture
    assert book["notation_convention"].startswith("Nielsen's notation: layer l's")
    # the tensors keep the lecture's sign (the JSON contract); the equations are the book's
    assert book["steps"][0]["layers"] == lecture["steps"][0]["layers"]
    symbols = [e["symbol"] for e in book["steps"][0]["equations"]]
    assert symbols[:2] == ["z^2[0,0]", "z^2[0,1]"] and "∂C/∂w^2[1,0,1]" in symbols


# ---------------------------------------------------------------- every model, every book


def _lecture_and_book(source, book):
    lecture = [r for s in api.trace(source).records.steps for _, r in s.equations()]
    written = [r for s in api.trace(source, notation=book).records.steps for _, r in s.equations()]
    return lecture, written


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("source", MODELS)
def test_only_the_sign_of_a_delta_differs_from_the_lecture(source, book):
    """Row for row: a δ of any kind (δ1[0], δh0[2,1], δnet0[…], Σδ1[0]) negated, every other
    value — forward, loss, gradient ∂E/∂θ, update — the lecture's."""
    lecture, written = _lecture_and_book(source, book)
    assert len(lecture) == len(written)
    for old, new in zip(lecture, written):
        sign = -1.0 if re.match(r"Σ?δ", old.symbol) else 1.0
        assert new.value == sign * old.value or new.value == old.value == 0, (old.symbol, new)


def _rnn(bidirectional: bool) -> dict:
    """Two stacked layers from a given h0 (test_rnn_stacked.TWO), or the same with a second
    direction (its parameters drawn here, two decimals)."""
    if not bidirectional:
        return TWO
    data = copy.deepcopy(TWO)
    data["model"][0]["rnn"] |= {"bidirectional": True, "h0": [[0.1, -0.2], [0.3, 0.05]] * 2}
    data["model"][2]["linear"]["in_features"] = 4
    rng = np.random.default_rng(28)
    drawn = {}
    for layer in (0, 1):
        for tail in ("", "_reverse"):
            given = 1 if layer == 0 else 4
            shapes = {"weight_ih": (2, given), "weight_hh": (2, 2), "bias_ih": 2, "bias_hh": 2}
            for key, shape in shapes.items():
                value = rng.uniform(-0.9, 0.9, shape).round(2)
                drawn[f"0.{key}_l{layer}{tail}"] = value.tolist()
    drawn |= {"2.weight": [[0.7, -0.5, 0.3, 0.2]], "2.bias": [0.2]}
    data["parameters"] = drawn
    return data


# an rnn → last → linear's answers as `rnn_by_hand` names them (torch's, typed) → the book's
# typed names: the rnn is layer 2 (Nielsen; its net z, its states a, δnet the book's δ, δh
# its own), the linear L = 3 (Hagan: 1 and M = 2; Mazur: h1 and o)
RNN_HEADS = {
    "nielsen": {
        "net0": "z^2", "h0": "a^2", "deltanet0": "delta^2", "deltah0": "deltah^2",
        "dE/dw_ih0": "dC/dw_ih^2", "dE/dw_hh0": "dC/dw_hh^2", "dE/db_ih0": "dC/db_ih^2",
        "dE/db_hh0": "dC/db_hh^2", "y2": "z^3", "delta2": "delta^3", "delta0": "dC/da^2",
    },
    "hagan": {
        "net0": "n^1", "h0": "a^1", "deltanet0": "s^1", "deltah0": "deltah^1",
        "dE/dw_ih0": "dF/dw_ih^1", "dE/dw_hh0": "dF/dw_hh^1", "dE/db_ih0": "dF/db_ih^1",
        "dE/db_hh0": "dF/db_hh^1", "y2": "n^2", "delta2": "s^2", "delta0": "dF/da^1",
    },
    "mazur": {
        "net0": "net_h1", "h0": "out_h1", "deltanet0": "delta_h1", "deltah0": "deltah_h1",
        "dE/dw_ih0": "dE_total/dw_ih_h1", "dE/dw_hh0": "dE_total/dw_hh_h1",
        "dE/db_ih0": "dE_total/db_ih_h1", "dE/db_hh0": "dE_total/db_hh_h1", "y2": "net_o",
        "delta2": "delta_o", "delta0": "dE_total/dout_h1",
    },
}  # fmt: skip


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["stacked", "bidirectional"])
def test_a_stacked_rnn_in_each_book_is_marked_right_from_its_answers_worked_by_hand(
    book, bidirectional
):
    """rnn(2 layers, h0 given[, both directions]) → last → linear: every answer worked by
    hand (lecture's sign), typed in the book's names (its stacked layers' suffixes torch's,
    _l1_reverse) with every δ negated: all right, none unmarked."""
    data = _rnn(bidirectional)
    answers = {}
    for name, value in rnn_worked(data).items():
        head, _, rest = name.partition("[")
        torch, _, suffix = head.partition("_l") if "_l" in head else (head, "", "")
        new = RNN_HEADS[book][torch] + (f"_l{suffix}" if suffix else "")
        answers[f"{new}[{rest}"] = -value if name.startswith("delta") else value
    report = api.check({"answers": answers}, data, notation=book)
    assert report["notes"] == []
    assert {a["verdict"] for a in report["answers"]} == {"right"}
    assert len(report["answers"]) == len(answers) > 60


# ---------------------------------------------------------------- marking in a book's names


def _nielsen_answers() -> dict[str, float]:
    typed = {"δ": "delta", "∂": "d"}
    out = {}
    for (quantity, index), value in conv1d_step().items():
        name = named("nielsen", quantity, index).removeprefix("new ")
        for mark, text in typed.items():
            name = name.replace(mark, text)
        out[name] = round(value, 6)
    return out


def test_an_answers_file_in_nielsens_names_is_marked_and_its_slips_named(runner, tmp_path):
    """All right, but: δ^4 with the lecture's sign (the book's sign slip), and ∂C/∂a^2[0,1],
    an input the pool did not keep, given its window's δ (max-pool's spread slip)."""
    answers = _nielsen_answers()
    assert answers["delta^4[0]"] == -0.88  # 2·(z^4 − y) = 2·(0.36 − 0.8)
    answers["delta^4[0]"] = 0.88
    answers["dC/da^2[0,1]"] = answers["dC/da^3[0,0]"]  # −0.264: the window's δ spread to it
    path = tmp_path / "answers.yaml"
    path.write_text(
        yaml.safe_dump({"exercise": "conv1d", "notation": "nielsen", "answers": answers}),
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["check", str(path), "--format", "json"])
    report = json.loads(result.output)
    verdicts = {a["name"]: a for a in report["answers"]}
    assert report["total"] == len(answers) == 74
    wrong = {name: a["mistakes"] for name, a in verdicts.items() if a["verdict"] == "wrong"}
    assert wrong == {
        "delta^4[0]": ["δ with the lecture's sign, −∂C/∂z: Nielsen's δ is ∂C/∂z"],
        "∂C/∂a^2[0,1]": [
            "the pooled gradient spread over the window (every input of a window given its δ, "
            "not only the one it kept)"
        ],
    }
    # what follows from the wrong δ^4 follows; everything else is right
    assert {a["verdict"] for n, a in verdicts.items() if n not in wrong} <= {"right", "follows"}


def test_a_models_names_are_listed_and_read_as_the_book_spells_them(runner):
    """Batch norm's statistics in Hagan's letters (its sums are of his sensitivities, Σs), as
    `check --names` lists them and a file types them; the output layer by its letter too
    (n^M for n^3). Their values: the lecture's (test_batchnorm.py), a δ's negated."""
    result = runner.invoke(cli, ["check", "--names", "batchnorm", "--notation", "hagan"])
    assert result.exit_code == 0, result.output
    typed = ("n^1[0]", "mu^2[0]", "var^2[1]", "xhat^2[2]", "sum_s^2[0]", "sum_s_xhat^2[1]")
    for name in typed:
        assert re.search(rf"^  {re.escape(name)} ", result.output, re.M), name
    first = api.trace("batchnorm").records.steps[0]  # sample 1's
    lecture = {row.symbol: row.value for _, row in first.equations()}
    answers = {
        "mu^2[0]": lecture["μ1[0]"],
        "var^2[1]": lecture["σ²1[1]"],
        "sum_s^2[0]": -lecture["Σδ1[0]"],
        "sum_s_xhat^2[1]": -lecture["Σδx̂1[1]"],
        "n^M[0]": lecture["y3[0]"],
        "s^M[0]": -lecture["δ3[0]"],
    }
    report = api.check({"answers": answers}, "batchnorm", notation="hagan")
    assert [a["symbol"] for a in report["answers"]] == [
        "μ^2[0]", "σ²^2[1]", "n^3[0]", "s^3[0]", "Σs^2[0]", "Σsx̂^2[1]"
    ]  # fmt: skip
    assert {a["verdict"] for a in report["answers"]} == {"right"}


def test_a_quiz_in_a_book_writes_a_session_check_reads_in_it(runner, tmp_path):
    session = tmp_path / "session.yaml"
    steps = _nielsen_answers()
    typed = f"{steps['z^2[0,0]']}\n{steps['z^2[0,1]']}\n"
    args = ["quiz", "conv1d", "--notation", "nielsen", "-o", str(session)]
    result = runner.invoke(cli, args, input=typed)
    assert "[1/74] z^2[0,0] = w^2[0,0,0]·a^1[0,0] + w^2[0,0,1]·a^1[0,1] + b^2[0]" in result.output
    assert "notation: nielsen" in session.read_text(encoding="utf-8")
    report = json.loads(runner.invoke(cli, ["check", str(session), "--format", "json"]).output)
    assert [a["verdict"] for a in report["answers"]] == ["right", "right"]


def test_a_class_answering_in_hagans_names_is_marked_into_a_gradebook(runner, tmp_path):
    """An exercise set drawn in Hagan's notation: its sheets ask n^1[0,0], dF/dw^1[0,0,1]; two
    students' files, worked by hand for their variants, the second with one slip: every
    column of the first right (its gradients too), the second's one cell wrong."""
    folder = tmp_path / "set"
    args = ["exercise", "conv1d", "--variants", "2", "--seed", "3", "--notation", "hagan"]
    args += ["-o", folder]
    assert runner.invoke(cli, [str(a) for a in args]).exit_code == 0
    manifest = json.loads((folder / "exercise.json").read_text(encoding="utf-8"))
    files = []
    for number, (ident, entry) in enumerate(manifest["variants"].items(), start=1):
        config = yaml.safe_load((folder / entry["config"]).read_text(encoding="utf-8"))
        assert config["notation"] == "hagan" and entry["questions"][0] == "n^1[0,0]"
        answers = _hagan_answers(config)
        if number == 2:
            answers["n^1[0,1]"] += 0.25
        path = tmp_path / f"s{number}.yaml"
        path.write_text(
            yaml.safe_dump({"variant": ident, "student": f"S{number}", "answers": answers})
        )
        files.append(str(path))
    book = tmp_path / "grades.csv"
    result = runner.invoke(
        cli, ["check", "--exercises", str(folder), *files, "--gradebook", str(book)]
    )
    assert result.exit_code == 1, result.output
    first, second = csv.DictReader(book.read_text(encoding="utf-8-sig").splitlines())
    columns = [c for c in first if c.startswith(("n^", "a^", "s^", "dF/", "w^", "b^"))]
    assert "dF/dw^1[0,0,1]" in columns and "w^3[0,2](k+1)" in columns
    assert {first[c] for c in columns} == {"right"}
    assert [c for c in columns if second[c] != "right"] == ["n^1[0,1]"]


def _hagan_answers(config: dict, book: str = "hagan") -> dict[str, float]:
    """A variant of conv1d worked by hand (this file's derivation on its numbers), in
    Hagan's typed names (an updated weight by its plain name, w^3[0,2] for w^3[0,2](k+1)),
    or another book's."""
    out = {}
    for (quantity, index), value in conv1d_step(Numbers.of(config)).items():
        name = named(book, quantity, index).removesuffix("(k+1)")
        out[name.replace("∂", "d")] = round(value, 6)
    return out


def test_a_file_in_nielsens_names_fills_a_hagan_sets_columns(runner, tmp_path):
    """The same Hagan set, answered in Nielsen's names by a file that says so: each answer
    marked as the quantity it names, in the set's column (n^1[0,0] for Nielsen's z^2[0,0])."""
    folder = tmp_path / "set"
    args = ["exercise", "conv1d", "--variants", "1", "--seed", "3", "--notation", "hagan"]
    assert runner.invoke(cli, [*args, "-o", str(folder)]).exit_code == 0
    manifest = json.loads((folder / "exercise.json").read_text(encoding="utf-8"))
    ((ident, entry),) = manifest["variants"].items()
    config = yaml.safe_load((folder / entry["config"]).read_text(encoding="utf-8"))
    given = _hagan_answers(config, "nielsen")
    assert "z^2[0,0]" in given and "n^1[0,0]" not in given
    path = tmp_path / "n.yaml"
    doc = {"variant": ident, "student": "N", "notation": "nielsen", "answers": given}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    book = tmp_path / "grades.csv"
    args = ["check", "--exercises", str(folder), str(path), "--gradebook", str(book)]
    runner.invoke(cli, args)
    (row,) = csv.DictReader(book.read_text(encoding="utf-8-sig").splitlines())
    assert row["total"] == str(len(entry["questions"])) and row["mark"] == row["total"]
    assert {row[c] for c in entry["questions"]} == {"right"}


# ---------------------------------------------------------------- every command, every book


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("source", MODELS)
def test_every_model_runs_in_every_book_in_every_format(runner, tmp_path, source, book):
    """run and step as a table, markdown and JSON, --round, check --names, and a quiz whose
    revealed answers, typed back, check marks right: exit 0, and the book's names where torch's
    were (no y0[, δ0[ or w0[ left)."""
    notation = ["--notation", book]
    for fmt in ("table", "markdown", "json"):
        for command in (["run", source], ["step", source, "--epochs", "2", "--trace", "1,2"]):
            result = runner.invoke(cli, [*command, *notation, "--format", fmt])
            assert result.exit_code == 0, (command, fmt, result.output)
            assert not re.search(r"(?<![\w^])(y|δ|w)0\[", result.output), (command, fmt)
    assert runner.invoke(cli, ["run", source, *notation, "--round", "3sf"]).exit_code == 0
    assert runner.invoke(cli, ["check", "--names", source, *notation]).exit_code == 0
    revealed = runner.invoke(cli, ["quiz", source, *notation], input="!\n" * 2000).output
    typed = re.findall(r"^  .*?: revealed: (\S+)$", revealed.split("Mistakes made:")[-1], re.M)
    session = tmp_path / "session.yaml"
    given = "\n".join(t.replace("−", "-") for t in typed) + "\n"
    runner.invoke(cli, ["quiz", source, *notation, "-o", str(session)], input=given)
    report = json.loads(runner.invoke(cli, ["check", str(session), "--format", "json"]).output)
    assert report["counts"]["right"] == report["total"] > 20


@pytest.mark.parametrize(
    ("source", "book"), [(source, BOOKS[n % 3]) for n, source in enumerate(MODELS)]
)
def test_an_exercise_set_of_every_model_is_drawn_in_a_book(runner, tmp_path, source, book):
    """Its sheets ask the book's names; its configs carry the notation, which `check` reads."""
    folder = tmp_path / "set"
    args = ["exercise", source, "--variants", "1", "--seed", "1", "--notation", book]
    assert runner.invoke(cli, [*args, "-o", str(folder)]).exit_code == 0
    (config,) = (folder / "configs").glob("*.yaml")
    assert yaml.safe_load(config.read_text(encoding="utf-8"))["notation"] == book
    sheet = next(p for p in (folder / "questions").glob("*.md") if p.name != "index.md")
    first = {"nielsen": "`z^2[", "hagan": "`n^1[", "mazur": "`net_h1["}[book]
    assert first in sheet.read_text(encoding="utf-8")


def test_notation_in_a_models_config_is_the_option_and_step_save_keeps_it(runner, tmp_path):
    config = tmp_path / "rnn.yaml"
    text = runner.invoke(cli, ["examples", "rnn"]).output
    config.write_text(text + "notation: mazur\n", encoding="utf-8")
    given = runner.invoke(cli, ["run", str(config)]).output
    assert given == runner.invoke(cli, ["run", "rnn", "--notation", "mazur"]).output
    assert "out_h1[2,0]" in given
    saved = tmp_path / "saved.yaml"
    assert runner.invoke(cli, ["step", str(config), "-n", "1", "--save", str(saved)]).exit_code == 0
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["notation"] == "mazur"


def test_a_new_kind_names_itself_in_each_book_from_its_own_letters(monkeypatch):
    """A kind registered with its own LETTERS (a pool whose output is an activation, with a
    quantity π of its own) is named in each book with no book or other file touched."""
    from types import SimpleNamespace

    from backtrace_cli.definitions.notations import get
    from backtrace_cli.network.layers import model_kinds, tensor
    from backtrace_cli.network.model_notation import ModelNotation
    from backtrace_cli.network.model_spec import LayerSpec

    class Pool:
        LETTERS = tensor.Letters(output="o", own={"π": "=π"})

    module = SimpleNamespace(parameter_shapes=lambda arguments: {})
    monkeypatch.setitem(model_kinds.MODEL_KINDS, "pool3", (module, Pool))
    layers = (
        LayerSpec(
            "linear", "0", (("in_features", 2), ("out_features", 2), ("bias", True)), (2,), (2,)
        ),
        LayerSpec("pool3", "1", (), (2,), (1,)),
    )
    spec = SimpleNamespace(layers=layers, output_shape=(1,), loss="mse")
    expected = {
        "nielsen": "z^2[0] a^3[0] π^3[0] ∂C/∂a^3[0] δ^2[1]",
        "hagan": "n^1[0] a^2[0] π^2[0] ∂F/∂a^2[0] s^1[1]",
        "mazur": "net_h1[0] out_o[0] π_o[0] ∂E_total/∂out_o[0] δ_h1[1]",
    }
    for book, names in expected.items():
        renamed = ModelNotation(get(book), spec).symbol("y0[0] y1[0] π1[0] δ1[0] δ0[1]")
        assert renamed == names, book


@pytest.mark.parametrize("book", BOOKS)
def test_every_row_the_books_sign_negates_names_that_slip_once(book):
    """Each of conv1d's 25 δ rows (δ4, δ2, δ1, δ0: the lecture's) names the slip of the other
    sign exactly once, in the book's words; no other row names it."""
    from dataclasses import replace

    from backtrace_cli import solution
    from backtrace_cli.definitions.notations import get

    sign = get(book).sign_mistake
    solved = solution.solve(replace(api.load("conv1d"), notation=book))
    counts = {line.key[2]: [name for name, _ in line.slips].count(sign) for line in solved.lines}
    assert sorted(set(counts.values())) == [0, 1] and sum(counts.values()) == 25
    assert counts[named(book, "d3", (0,))] == counts[named(book, "dA1", (0, 1))] == 1


def test_an_optimizers_rule_writes_hagans_rate_in_its_latex_too():
    every = {**yaml.safe_load(yaml.safe_dump(_rnn(False))), "optimizer": "adam"}
    markdown = api.trace(every, notation="hagan").markdown()
    update = markdown.split("#### Update", 1)[1].split("$$", 1)[0]
    assert "\\alpha" in update and "\\eta" not in update


@pytest.mark.parametrize("book", ("lecture", *BOOKS))
@pytest.mark.parametrize("source", MODELS)
def test_a_rules_gradient_of_an_entry_is_one_piece_of_math(runner, source, book):
    """A layer's rule that names a gradient of a tensor's entry (an rnn's ∂E/∂w_ih[j,i], a
    pool's ∂C/∂a^2[c,u]) writes it whole in the markdown, its index inside the math: never
    the math closed before the index's comma (`…}$,i]`), nor a book's words run together
    (Mazur's w_ih_h1 as `ihh1`); a pool's max is \\max, upright, not m·a·x in italics."""
    result = runner.invoke(cli, ["run", source, "--notation", book, "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert not re.search(r"\}\$,[a-z,]*\]", result.output)
    assert "ihh1" not in result.output and "hhh1" not in result.output
    assert "&= max(" not in result.output  # a max pool's max is KaTeX's operator, \max


def test_the_rnns_shared_weights_rule_in_markdown(runner):
    """The rule as written by hand: each of its gradients one fraction, its index inside."""
    page = runner.invoke(cli, ["run", "rnn", "--format", "markdown"]).output
    rule = next(line for line in page.splitlines() if line.startswith("Each weight is shared"))
    ih = "$\\frac{\\partial E}{\\partial w^{(\\mathit{ih})}_{j,i}}$ = −Σ_t δnet[t,j]·x[t,i]"
    hh = "$\\frac{\\partial E}{\\partial w^{(\\mathit{hh})}_{j,k}}$ = −Σ_t δnet[t,j]·h[t−1,k]"
    assert ih in rule and hh in rule


def test_a_models_answers_file_answers_a_later_epoch(runner, tmp_path):
    """`epochs: {2: …}` in a model's answers file: epoch 2's conv outputs, worked here from
    the parameters after epoch 1's hand-worked SGD step, marked right, in the lecture's names
    and in Nielsen's; one slipped value marked wrong, under its epoch."""
    step = conv1d_step()
    after = EXAMPLE._replace(
        w0=np.array([[step["nw1", (c, 0, k)] for k in (0, 1)] for c in (0, 1)]),
        b0=np.array([step["nb1", (c,)] for c in (0, 1)]),
        w4=np.array([step["nw3", (0, j)] for j in range(4)]),
        b4=step["nb3", (0,)],
    )
    z1 = conv1d_forward(after)["z1"]
    for book, head in (("lecture", "y0"), ("nielsen", "z^2")):
        later = {f"{head}[{c},{t}]": round(float(z1[c, t]), 6) for c, t in np.ndindex(2, 5)}
        later[f"{head}[1,4]"] += 0.1
        doc = {"exercise": "conv1d", "notation": book, "epochs": {2: later}}
        path = tmp_path / f"{book}.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        result = runner.invoke(cli, ["check", str(path), "--format", "json"])
        assert result.exit_code == 1, result.output
        report = json.loads(result.output)
        verdicts = {(a["name"], a["epoch"]): a["verdict"] for a in report["answers"]}
        assert len(verdicts) == 10
        assert {v for k, v in verdicts.items() if k[0] != f"{head}[1,4]"} == {"right"}
        assert verdicts[f"{head}[1,4]", 2] == "wrong"


@pytest.mark.parametrize(
    ("epochs", "message"),
    [
        ('{0: {"y0[0,0]": 1}}', "epochs.0: not an epoch number (1, 2, …)"),
        (
            "[1, 2]",
            'epochs: expected a mapping of epoch numbers to answers: `2: {"y0[0,1]": 0.35}`',
        ),
        (
            "{2: [1, 2]}",
            'epochs.2: expected a mapping of quantities to your values: `"y0[0,1]": 0.35`',
        ),
    ],
)
def test_a_models_later_epochs_refused_in_its_own_names(runner, tmp_path, epochs, message):
    """A model's `epochs:` that cannot be read: exit 2, the line, and an example in the
    model's names (not a network's w45)."""
    path = tmp_path / "later.yaml"
    path.write_text(f"exercise: conv1d\nepochs: {epochs}\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "later.yaml, line 2, column" in result.output
    assert message in " ".join(result.output.split())
