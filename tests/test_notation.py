"""`--notation`: the lecture's network spelled as each textbook spells it.

The same network gives the same numbers in every book; only the symbols change, and the sign of
δ: the lecture's δ = −∂E/∂net, while Nielsen's δ = ∂C/∂z, Hagan's s = ∂F/∂n and Mazur's
δ_o1 = ∂E_total/∂net_o1 are the gradient itself. Every expected value is derived in this file
from the lecture's formulas (and checked against the notes' printed numbers); Mazur's example
is checked against the numbers his blog post publishes.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from conftest import MODELS, run_json
from node_parsers import check, pieces
from pytest import approx

from backtrace_cli.cli import cli

BOOKS = ("lecture", "nielsen", "hagan", "mazur")
FLIPPED = ("nielsen", "hagan", "mazur")  # the books whose δ is +∂loss/∂net


def sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# ---- the lecture's step, derived here: x = (0.35, 0.9), t5 = 0.5, η = 1, E = ½(t − o)²
X1, X2, T5, ETA = 0.35, 0.9, 0.5, 1.0
W = {"w13": 0.1, "w23": 0.8, "w14": 0.4, "w24": 0.6, "w35": 0.3, "w45": 0.9}
NET3 = W["w13"] * X1 + W["w23"] * X2
NET4 = W["w14"] * X1 + W["w24"] * X2
O3, O4 = sigma(NET3), sigma(NET4)
NET5 = W["w35"] * O3 + W["w45"] * O4
O5 = sigma(NET5)
E5 = T5 - O5
D5 = O5 * (1 - O5) * (T5 - O5)  # the lecture's δ = −∂E/∂net
D3 = O3 * (1 - O3) * W["w35"] * D5
D4 = O4 * (1 - O4) * W["w45"] * D5
OUT = {1: X1, 2: X2, 3: O3, 4: O4}  # o_i of the unit a weight comes from
DELTA = {3: D3, 4: D4, 5: D5}  # δ_j of the unit it goes to
DW = {w: ETA * DELTA[int(w[2])] * OUT[int(w[1])] for w in W}  # Δw_ij = η·δ_j·o_i

# lecture symbol → its value, with the lecture's sign
VALUES: dict[str, float] = {
    "x1": X1,
    "x2": X2,
    "t5": T5,
    "η": ETA,
    **W,
    "net3": NET3,
    "o3": O3,
    "net4": NET4,
    "o4": O4,
    "net5": NET5,
    "o5": O5,
    "e5": E5,
    "E": 0.5 * E5**2,
    "∂E/∂o5": -(T5 - O5),
    "∂o5/∂net5": O5 * (1 - O5),
    "δ5": D5,
    "δ3": D3,
    "δ4": D4,
    **{"Δ" + w: DW[w] for w in W},
    **{"new " + w: W[w] + DW[w] for w in W},
}
DELTAS = {"δ5", "δ3", "δ4"}  # the quantities whose sign the other books flip

# lecture symbol → (nielsen, hagan, mazur); None: the book has no such quantity
NAMES: dict[str, tuple[str | None, str | None, str | None]] = {
    "x1": ("a^1_1", "p_1", "i1"),
    "x2": ("a^1_2", "p_2", "i2"),
    "t5": ("y_1", "t_1", "target_o1"),
    "η": ("η", "α", "η"),
    "net3": ("z^2_1", "n^1_1", "net_h1"),
    "o3": ("a^2_1", "a^1_1", "out_h1"),
    "net4": ("z^2_2", "n^1_2", "net_h2"),
    "o4": ("a^2_2", "a^1_2", "out_h2"),
    "net5": ("z^3_1", "n^2_1", "net_o1"),
    "o5": ("a^3_1", "a^2_1", "out_o1"),
    "e5": ("e_1", "e_1", "e_o1"),
    "E": ("C", "F", "E_total"),
    "∂E/∂o5": ("∂C/∂a^3_1", "∂F/∂a^2_1", "∂E_total/∂out_o1"),
    "∂o5/∂net5": ("∂a^3_1/∂z^3_1", "∂a^2_1/∂n^2_1", "∂out_o1/∂net_o1"),
    "δ5": ("δ^3_1", "s^2_1", "δ_o1"),
    "δ3": ("δ^2_1", "s^1_1", "δ_h1"),
    "δ4": ("δ^2_2", "s^1_2", "δ_h2"),
}
WEIGHT_NAMES = {  # w^l_jk: to unit j of layer l from unit k; Mazur numbers them w1…w6
    "w13": ("w^2_11", "w^1_1,1", "w1"),
    "w23": ("w^2_12", "w^1_1,2", "w2"),
    "w14": ("w^2_21", "w^1_2,1", "w3"),
    "w24": ("w^2_22", "w^1_2,2", "w4"),
    "w35": ("w^3_11", "w^2_1,1", "w5"),
    "w45": ("w^3_12", "w^2_1,2", "w6"),
}
for _w, (_n, _h, _m) in WEIGHT_NAMES.items():
    NAMES[_w] = (_n, _h, _m)
    NAMES["Δ" + _w] = ("Δ" + _n, "Δ" + _h, None)  # Mazur writes no Δw, only ∂E_total/∂w
    NAMES["new " + _w] = ("new " + _n, _h + "(k+1)", _m + "⁺")
assert set(NAMES) == set(VALUES)

# the questions `backtrace check` asks about the lecture (not the inputs or the partials)
QUESTIONS = [
    "net3", "o3", "net4", "o4", "net5", "o5", "e5", "E", "δ5", "δ3", "δ4",
    *(s for w in W for s in ("Δ" + w, "new " + w)),
]  # fmt: skip


def spelled(book: str, lecture_symbol: str) -> str | None:
    if book == "lecture":
        return lecture_symbol
    return NAMES[lecture_symbol][FLIPPED.index(book)]


def expected(book: str, lecture_symbol: str) -> float:
    value = VALUES[lecture_symbol]
    return -value if book != "lecture" and lecture_symbol in DELTAS else value


def quantities(document: dict) -> dict[str, float]:
    """Every symbol of step 1, traced rows and their operands, → its value (one value each)."""
    found: dict[str, float] = {}
    for eq in document["steps"][0]["equations"]:
        for symbol, value in [*eq["operands"].items(), (eq["symbol"], eq["value"])]:
            assert found.setdefault(symbol, value) == value, (symbol, found[symbol], value)
    return found


def trace(runner, book: str, *args: str) -> dict:
    return run_json(runner, *(args or ("lecture",)), "--notation", book)


def test_the_derivation_here_agrees_with_the_notes():
    """The independent source: the notes' printed numbers, to their 6 figures."""
    notes = {
        "net3": 0.755, "o3": 0.680267, "net4": 0.68, "o4": 0.663739, "net5": 0.801445,
        "o5": 0.690283, "E": 0.018104, "δ5": -0.040681, "δ3": -0.0026545, "δ4": -0.0081716,
        "Δw35": -0.027674, "new w35": 0.272326, "new w45": 0.872998, "new w13": 0.099071,
        "new w23": 0.797611, "new w14": 0.397140, "new w24": 0.592646,
    }  # fmt: skip
    for symbol, printed in notes.items():
        assert VALUES[symbol] == approx(printed, abs=6e-7), symbol


# ---- 1. each book's symbols, with the lecture's numbers


@pytest.mark.parametrize("book", BOOKS)
def test_each_book_spells_the_lecture_step_with_its_own_symbols(runner, book):
    found = quantities(trace(runner, book))
    wrong = {}
    for lecture_symbol in VALUES:
        symbol = spelled(book, lecture_symbol)
        if symbol is None:
            continue
        want = expected(book, lecture_symbol)
        if symbol not in found:
            wrong[symbol] = ("missing", want)
        elif found[symbol] != approx(want, rel=1e-12, abs=1e-15):
            wrong[symbol] = (found[symbol], want)
    assert not wrong, f"{book}: symbol → (traced, expected): {wrong}; traced: {sorted(found)}"


@pytest.mark.parametrize("book", FLIPPED)
def test_no_lecture_symbol_is_left_in_another_book(runner, book):
    found = quantities(trace(runner, book))
    own = {spelled(book, s) for s in VALUES}
    assert not (set(VALUES) - own) & set(found)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_an_optimizers_rules_use_the_books_rate_and_loss(runner, fmt):
    """Hagan writes the learning rate α and the loss F: Adam's rule and the conventions line
    too, not only its rows (its own letters stay: β1^t's t is the step count)."""
    result = runner.invoke(cli, ["run", "adam", "--notation", "hagan", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert "η" not in result.output and "\\eta" not in result.output
    if fmt == "table":
        assert "w ← w − α·m̂/(√v̂ + ε)" in result.output.replace("\n  ", " ")
        assert "g = ∂F/∂w" in result.output and "m̂ = m/(1 − β1^t)" in result.output
    else:
        assert "\\frac{\\partial F}{\\partial w}" in result.output
        assert "w -\\frac{\\alpha \\cdot \\hat{m}}" in result.output


def test_mazur_writes_chain_rule_gradients_instead_of_weight_changes(runner):
    """∂E_total/∂w5 = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5, and
    w5⁺ = w5 − η·∂E_total/∂w5; no Δw rows."""
    found = quantities(trace(runner, "mazur"))
    assert not [s for s in found if s.startswith("Δ")]
    chain = found["∂E_total/∂out_o1"] * found["∂out_o1/∂net_o1"]
    for lecture_w, (_n, _h, w) in WEIGHT_NAMES.items():
        i, j = int(lecture_w[1]), int(lecture_w[2])
        gradient = -DELTA[j] * OUT[i]  # ∂E/∂w_ij = −δ_j·o_i with the lecture's δ
        assert found[f"∂E_total/∂{w}"] == approx(gradient, rel=1e-12), w
        assert found[f"{w}⁺"] == approx(W[lecture_w] - ETA * gradient, rel=1e-12), w
        if j == 5:  # the output layer's rows are the three-factor chain
            assert found[f"∂net_o1/∂{w}"] == approx(OUT[i], rel=1e-12)
            assert found[f"∂E_total/∂{w}"] == approx(chain * found[f"∂net_o1/∂{w}"], rel=1e-12)


# ---- 2. the sign flip: the same network, the same numbers, δ negated


@pytest.mark.parametrize("book", FLIPPED)
def test_only_the_sign_of_delta_differs_from_the_lecture(runner, book):
    lecture = quantities(trace(runner, "lecture"))
    other = quantities(trace(runner, book))
    for lecture_symbol in VALUES:
        symbol = spelled(book, lecture_symbol)
        if symbol is None:
            continue
        if lecture_symbol in DELTAS:
            assert other[symbol] == -lecture[lecture_symbol], (symbol, lecture_symbol)
        else:
            assert other[symbol] == lecture[lecture_symbol], (symbol, lecture_symbol)


# ---- 3. `notation:` in the config


def lecture_config(runner, tmp_path, extra: str):
    result = runner.invoke(cli, ["examples", "lecture"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "net.yaml"
    path.write_text(result.output + extra, encoding="utf-8")
    return str(path)


def test_notation_in_the_config_equals_the_command_line_option(runner, tmp_path):
    config = lecture_config(runner, tmp_path, "notation: nielsen\n")
    from_file = run_json(runner, config)["steps"][0]["equations"]
    from_flag = trace(runner, "nielsen")["steps"][0]["equations"]
    assert [e["symbol"] for e in from_file] == [e["symbol"] for e in from_flag]
    assert from_file == from_flag


def test_the_command_line_option_overrides_the_configs_notation(runner, tmp_path):
    config = lecture_config(runner, tmp_path, "notation: nielsen\n")
    symbols = [e["symbol"] for e in trace(runner, "hagan", config)["steps"][0]["equations"]]
    assert symbols == [e["symbol"] for e in trace(runner, "hagan")["steps"][0]["equations"]]


# ---- 4, 5. `backtrace check` with answers named in a book's notation


def answer_name(book: str, lecture_symbol: str) -> str | None:
    """How a student of that book names an answer: Nielsen's `delta^3_1` and `w^3_11` (the
    new weight), Hagan's `w^2_1,1` (the new weight), Mazur's `w5` (w5⁺)."""
    name = spelled(book, lecture_symbol)
    if name is None:
        return None
    if book == "nielsen":
        return name.replace("δ", "delta").removeprefix("new ")
    if book == "hagan":
        return name.removesuffix("(k+1)")
    if book == "mazur":
        return name.removesuffix("⁺")
    return name


def write_answers(tmp_path, answers: dict[str, float | str], header: str) -> str:
    path = tmp_path / "answers.yaml"
    lines = [f"  {name}: {value}" for name, value in answers.items()]
    path.write_text(header + "answers:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def check_json(runner, *args: str) -> tuple[int, dict]:
    result = runner.invoke(cli, ["check", *args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize("where", ["notation: in the file", "--notation"])
@pytest.mark.parametrize("book", FLIPPED)
def test_every_answer_right_in_a_books_notation_passes(runner, tmp_path, book, where):
    answers = {
        answer_name(book, s): f"{expected(book, s):.3g}"  # 3 significant figures
        for s in QUESTIONS
        if answer_name(book, s) is not None
    }
    if where == "--notation":
        path = write_answers(tmp_path, answers, "exercise: lecture\n")
        code, report = check_json(runner, path, "--notation", book)
    else:
        path = write_answers(tmp_path, answers, f"exercise: lecture\nnotation: {book}\n")
        code, report = check_json(runner, path)
    # the report names answers its own way (`dw^2_11` for Δw^2_11): compare the verdicts
    assert [a["kind"] for a in report["answers"]] == ["right"] * len(answers), report["answers"]
    # Mazur works the chain rule's factors as steps of their own (#27): questions the lecture's
    # list has not — ∂E/∂out and ∂out/∂net of each of the 3 units, ∂net/∂w and ∂E/∂w of each
    # of the 6 weights
    factors = 2 * 3 + 2 * 6 if book == "mazur" else 0
    unanswered = [a["symbol"] for a in report["unanswered"]]
    assert len(unanswered) == factors and all(s.startswith("∂") for s in unanswered), unanswered
    assert report["correct"] == len(answers) and report["total"] == len(answers) + factors
    assert code == (1 if factors else 0)


def test_nielsen_answers_with_the_books_own_spellings(runner, tmp_path):
    """δ^3_1 as printed (not only `delta`), and a handful of answers at 3sf with `round: 3sf`."""
    answers = {"z^2_1": "0.755", "a^2_1": "0.680", "δ^3_1": "0.0407", "w^3_11": "0.272"}
    path = write_answers(tmp_path, answers, "exercise: lecture\nnotation: nielsen\nround: 3sf\n")
    _code, report = check_json(runner, path)
    assert [a["kind"] for a in report["answers"]] == ["right"] * len(answers), report["answers"]
    assert [a["symbol"] for a in report["answers"]] == ["z^2_1", "a^2_1", "δ^3_1", "new w^3_11"]


@pytest.mark.parametrize("unit", ["δ5", "δ3"])
@pytest.mark.parametrize("book", FLIPPED)
def test_a_delta_with_the_lectures_sign_is_wrong_and_the_sign_is_named(
    runner, tmp_path, book, unit
):
    name = answer_name(book, unit).replace("delta", "δ")  # δ^3_1, s^2_1, δ_o1, …
    lecture_sign = f"{VALUES[unit]:.3g}"  # e.g. −0.0407 where the book's is +0.0407
    assert float(lecture_sign) < 0 < expected(book, unit)
    path = write_answers(tmp_path, {name: lecture_sign}, f"exercise: lecture\nnotation: {book}\n")
    _code, report = check_json(runner, path)
    [answer] = report["answers"]
    assert answer["kind"] == "wrong", answer
    # the convention mistake, not only the generic (t − o) slip every notation has
    sign = [m for m in answer["mistakes"] if "sign" in m and m != "the sign of (t − o) flipped"]
    assert sign, answer["mistakes"]


def test_a_lecture_delta_with_nielsens_sign_is_wrong_and_the_sign_is_named(runner, tmp_path):
    path = write_answers(tmp_path, {"delta5": f"{-D5:.3g}"}, "exercise: lecture\n")
    code, report = check_json(runner, path)
    [answer] = report["answers"]
    assert code == 1 and answer["kind"] == "wrong", answer
    assert any("δ with the sign of ∂E/∂net" in m for m in answer["mistakes"]), answer["mistakes"]


# ---- 6. the homework export in every notation: KaTeX parses its math


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("source", ["lecture", "adam", *MODELS])
def test_the_markdown_export_parses_in_katex_in_every_notation(runner, book, source):
    """The lecture's network, Adam's, and every built-in model of tensor layers (their names
    z^2[0,1], ∂C/∂a^2[0,1], w_ih^2_l1[0,1], μ^2[0] in a book's notation), traced with
    --verify."""
    args = ["run", source, "--notation", book, "--format", "markdown"]
    result = runner.invoke(cli, [*args, *(["--verify"] if source in MODELS else [])])
    assert result.exit_code == 0, result.output
    math_, diagrams = pieces(result.output)
    assert len(math_) > 20 and diagrams  # the extraction found them
    report = check(math_, diagrams)
    assert report["math"] == [], report["math"]
    assert report["mermaid"] == [], report["mermaid"]


# ---- 7. a bad `notation:`


def test_an_unknown_notation_in_the_config_exits_2_naming_the_field_and_the_choices(
    runner, tmp_path
):
    config = lecture_config(runner, tmp_path, "notation: foo\n")
    result = runner.invoke(cli, ["run", config])
    assert result.exit_code == 2, result.output
    assert "notation" in result.output and "foo" in result.output
    for name in BOOKS:
        assert name in result.output.split("foo", 1)[1], result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


# ---- Mazur's own example, against the numbers his post publishes

MAZUR_PUBLISHED = {
    "net_h1": "0.3775",
    "out_h1": "0.593269992",
    "out_h2": "0.596884378",
    "out_o1": "0.75136507",
    "out_o2": "0.772928465",
    "E_total": "0.298371109",
    "∂E_total/∂out_o1": "0.74136507",
    "∂out_o1/∂net_o1": "0.186815602",
    "∂E_total/∂w5": "0.082167041",
    "δ_o1": "0.138498562",
    # the hidden layer, as his post goes through it
    "∂E_total/∂out_h1": "0.036350306",
    "∂out_h1/∂net_h1": "0.241300709",
    "∂E_total/∂w1": "0.000438568",
    "w5⁺": "0.35891648",
    "w6⁺": "0.408666186",
    "w7⁺": "0.511301270",
    "w8⁺": "0.561370121",
    "w1⁺": "0.149780716",
    "w2⁺": "0.19956143",
    "w3⁺": "0.24975114",
    "w4⁺": "0.29950229",
}


def test_mazurs_example_in_his_notation_gives_his_published_numbers(runner):
    found = quantities(run_json(runner, "mazur", "--notation", "mazur"))
    for symbol, printed in MAZUR_PUBLISHED.items():
        assert symbol in found, (symbol, sorted(found))
        # he rounds: within half a unit of his last printed digit
        half_unit = float(Decimal(1).scaleb(Decimal(printed).as_tuple().exponent)) / 2
        assert found[symbol] == approx(float(printed), abs=half_unit * 1.01), symbol


# ---- spellings, the Python API, a class's homework and a quiz in a book's notation


@pytest.mark.parametrize(
    "spelling",
    ["z^2_1", "z^{2}_{1}", "z_1^2", "z^{(2)}_1", "z²₁", "z2_1"],
)
def test_students_spellings_of_one_nielsen_name_are_one_name(runner, tmp_path, spelling):
    path = write_answers(tmp_path, {spelling: NET3}, "exercise: lecture\nnotation: nielsen\n")
    _code, report = check_json(runner, path)
    assert [(a["symbol"], a["kind"]) for a in report["answers"]] == [("z^2_1", "right")]


@pytest.mark.parametrize(
    ("book", "spelling", "symbol"),
    [
        ("mazur", "w5", "w5⁺"),
        ("mazur", "w5+", "w5⁺"),
        ("mazur", "dE_total/dw5", "∂E_total/∂w5"),
        ("hagan", "w^2_1,1(k+1)", "w^2_1,1(k+1)"),
        ("hagan", "w^2_11", "w^2_1,1(k+1)"),
        ("nielsen", "w'^3_11", "new w^3_11"),
        ("nielsen", "dw^3_11", "Δw^3_11"),
    ],
)
def test_an_updated_weight_is_read_in_each_books_spellings(
    runner, tmp_path, book, spelling, symbol
):
    path = write_answers(tmp_path, {spelling: 0.5}, f"exercise: lecture\nnotation: {book}\n")
    _code, report = check_json(runner, path)
    assert [a["symbol"] for a in report["answers"]] == [symbol]


def test_a_lecture_name_in_a_books_answers_file_is_refused_with_the_books_names(runner, tmp_path):
    path = write_answers(tmp_path, {"net3": 0.755}, "exercise: lecture\nnotation: nielsen\n")
    result = runner.invoke(cli, ["check", path])
    assert result.exit_code == 2
    assert "line 4" in result.output and "answers.net3" in result.output
    assert "nielsen's notation" in result.output and "z^2_1" in result.output
    assert "Traceback" not in result.output


def test_the_python_api_takes_a_notation():
    import backtrace_cli as bt

    document = bt.trace("lecture", notation="hagan").json()
    values = {e["symbol"]: e["value"] for e in document["steps"][0]["equations"]}
    assert values["s^2_1"] == approx(-D5, rel=1e-12)
    assert document["network"]["notation"] == "hagan"
    report = bt.check({"delta^3_1": f"{-D5:.3g}"}, "lecture", notation="nielsen")
    assert [a["kind"] for a in report["answers"]] == ["right"]


def test_a_class_answering_in_nielsens_notation_is_marked_from_the_teachers_folder(
    runner, tmp_path
):
    folder = tmp_path / "hw"
    made = runner.invoke(
        cli,
        [
            "exercise",
            "lecture",
            "--variants",
            "1",
            "--seed",
            "4",
            "-o",
            str(folder),
            "--notation",
            "nielsen",
        ],
    )
    assert made.exit_code == 0, made.output
    (config,) = (folder / "configs").iterdir()
    assert "notation: nielsen" in config.read_text(encoding="utf-8")
    # the variant's own numbers, from its config, traced in the lecture's notation
    lecture = run_json(runner, str(config), "--notation", "lecture")
    values = {e["symbol"]: e["value"] for e in lecture["steps"][0]["equations"]}
    answers = folder / "answers"
    answers.mkdir()
    (answers / "ann.yaml").write_text(
        f"variant: {config.stem}\nstudent: Ann\nanswers:\n"
        f"  z^2_1: {values['net3']!r}\n  delta^3_1: {-values['δ5']!r}\n"
        f"  w^3_12: {values['new w45']!r}\n",
        encoding="utf-8",
    )
    grades = tmp_path / "grades.csv"
    result = runner.invoke(
        cli, ["check", "--exercises", str(folder), str(answers), "--gradebook", str(grades)]
    )
    assert result.exit_code == 1, result.output  # right, but most questions unanswered
    header, row = grades.read_text(encoding="utf-8-sig").splitlines()
    cells = dict(zip(header.split(","), row.split(",")))
    assert cells["mark"] == "3"
    assert cells["z^2_1"] == cells["delta^3_1"] == cells["w^3_12"] == "right"


def test_a_quiz_in_a_notation_writes_a_session_check_reads_in_it(runner, tmp_path):
    session = tmp_path / "session.yaml"
    typed = f"{NET3}\n{O3}\n"
    result = runner.invoke(cli, ["quiz", "--notation", "mazur", "-o", str(session)], input=typed)
    assert "net_h1 = w1·i1 + w2·i2" in result.output
    text = session.read_text(encoding="utf-8")
    assert "notation: mazur" in text and "net_h1" in text
    _code, report = check_json(runner, str(session))
    assert [a["kind"] for a in report["answers"]] == ["right", "right"]


CASES = [  # every kind of section a trace has: biases, dropout, softmax, optimizers, batch
    ["run", "mazur"],
    ["run", "lecture_dropout"],
    ["run", "softmax", "--gradients"],
    ["run", "adam"],
    ["run", "xor", "--verify"],
    ["step", "xor_momentum", "--epochs", "3", "--trace", "1,3"],
]


@pytest.mark.parametrize("book", FLIPPED)
def test_every_kind_of_section_parses_in_katex_in_every_notation(runner, book):
    math_, diagrams = [], []
    for case in CASES:
        result = runner.invoke(cli, [*case, "--notation", book, "--format", "markdown"])
        assert result.exit_code == 0, (case, result.output)
        found = pieces(result.output)
        math_ += found[0]
        diagrams += found[1]
    report = check(math_, diagrams)
    assert report["math"] == [], report["math"][:3]
    assert report["mermaid"] == [], report["mermaid"][:3]


@pytest.mark.parametrize("book", FLIPPED)
def test_the_epochs_table_names_outputs_and_weights_in_the_book(runner, book):
    result = runner.invoke(cli, ["step", "lecture", "--epochs", "2", "--notation", book])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.lstrip().startswith("epoch"))
    output, w35 = {
        "nielsen": ("a^3_1", "w^3_11"),
        "hagan": ("a^2_1", "w^2_1,1"),
        "mazur": ("out_o1", "w5"),
    }[book]
    assert output in header.split() and w35 in header.split()
    assert "o5" not in header.split() and "w35" not in header.split()


# ---- a fifth book is one file

BISHOP = '''
"""Bishop's notation (Pattern Recognition and Machine Learning, 5.3): a_j = Σ_i w_ji·z_i,
z_j = h(a_j), outputs y_k, targets t_k, δ_j = ∂E/∂a_j."""

from . import Book, Place


def _quantity(kind, place: Place) -> str:
    j = place.index + 1
    if kind == "x":
        return f"x_{j}"
    if kind in ("t", "e"):
        return f"{kind}_{j}"
    if kind == "o":
        return f"y_{j}" if place.output else f"z_{j}"
    return {"net": "a", "δ": "δ"}.get(kind, kind) + ("_k" if place.output else "_j") + str(j)


BOOK = Book(
    name="bishop",
    title="Bishop, Pattern Recognition and Machine Learning",
    flips=True,
    convention="Bishop's notation: δ_j = ∂E/∂a_j",
    quantity=_quantity,
    weight=lambda source, target, n: f"w^({target.layer})_{target.index + 1}{source.index + 1}",
    bias=lambda place, shared: f"b_{place.index + 1}",
)
'''


def test_a_fifth_book_is_one_file(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import backtrace_cli
    from backtrace_cli.network.config import examples_dir

    package = tmp_path / "backtrace_cli"
    shutil.copytree(Path(backtrace_cli.__file__).parent, package)
    if not (package / "configs").is_dir():  # a checkout: the examples sit beside the package
        shutil.copytree(examples_dir(), package / "configs")
    (package / "definitions" / "notations" / "bishop.py").write_text(BISHOP, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "backtrace_cli", "run", "--notation", "bishop", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = {e["symbol"]: e["value"] for e in json.loads(result.stdout)["steps"][0]["equations"]}
    assert values["a_j1"] == approx(NET3) and values["z_1"] == approx(O3)
    assert values["y_1"] == approx(O5) and values["δ_k1"] == approx(-D5)
    assert values["new w^(2)_12"] == approx(W["w45"] + DW["w45"])


def test_the_lectures_mistakes_are_named_in_the_books_letters(runner, tmp_path):
    """A Nielsen δ^3_1 with (y − a) the wrong way round: the sign convention first, then
    the lecture's own slip, written with Nielsen's y and a (not the lecture's t and o)."""
    lecture_sign = f"{D5:.3g}"
    path = write_answers(
        tmp_path, {"delta^3_1": lecture_sign}, "exercise: lecture\nnotation: nielsen\n"
    )
    _code, report = check_json(runner, path)
    (answer,) = report["answers"]
    assert answer["kind"] == "wrong"
    assert answer["mistakes"][0].startswith("δ with the lecture's sign")
    assert "the sign of (y − a) flipped" in answer["mistakes"]
    assert not any("(t − o)" in m for m in answer["mistakes"])


def test_the_output_layer_may_be_written_by_its_letter(runner, tmp_path):
    """Nielsen writes the output layer L (a^L_j, δ^L_j); Hagan writes M."""
    nielsen = {"a^L_1": O5, "delta^L_1": -D5, "w^L_12": W["w45"] + DW["w45"]}
    path = write_answers(tmp_path, nielsen, "exercise: lecture\nnotation: nielsen\n")
    _code, report = check_json(runner, path)
    assert [(a["symbol"], a["kind"]) for a in report["answers"]] == [
        ("a^3_1", "right"),
        ("δ^3_1", "right"),
        ("new w^3_12", "right"),
    ]
    path = write_answers(tmp_path, {"s^M_1": -D5}, "exercise: lecture\nnotation: hagan\n")
    _code, report = check_json(runner, path)
    assert [(a["symbol"], a["kind"]) for a in report["answers"]] == [("s^2_1", "right")]
