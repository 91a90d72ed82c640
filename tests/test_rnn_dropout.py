"""torch's dropout between an rnn's stacked layers (`nn.RNN(…, num_layers=2, dropout=p)`, issue
#28): in training layer l's states are dropped with probability p before layer l + 1 reads
them, the kept scaled by 1/(1 − p); never after the last layer; nothing at inference. Every
expected number comes from outside the program: a one-unit, two-layer rnn over two steps
worked in the test, random models worked by hand (tests/rnn_by_hand.py) and central finite
differences of that hand-written forward pass through the same masks; drawn masks are redrawn
here by the documented rule."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import rnn_by_hand
import yaml
from model_commands import assert_refused, exercised, written
from test_rnn_stacked import _random

from backtrace_cli import api
from backtrace_cli.cli import cli
from backtrace_cli.network.dropout import DROPOUT_STREAM
from backtrace_cli.network.model_names import typed

# two stacked layers of one unit, two steps; l0's state at step 0 kept, at step 1 dropped
W0, U0, B0 = 0.9, -0.5, 0.2  # l0: w_ih, w_hh, b_ih (b_hh 0)
W1, U1, B1 = -1.2, 0.4, 0.1  # l1
V, C = 0.8, -0.3  # the linear output on l1's last state
X, T, P = (0.6, -0.4), 0.25, 0.5
TWO = {
    "name": "two layers, dropout between them",
    "model": [
        {
            "rnn": {
                "input_size": 1,
                "hidden_size": 1,
                "num_layers": 2,
                "dropout": P,
                "dropout_mask": [[1], [0]],
            }
        },
        "last",
        {"linear": {"in_features": 1, "out_features": 1}},
    ],
    "parameters": {
        "0.weight_ih_l0": [[W0]],
        "0.weight_hh_l0": [[U0]],
        "0.bias_ih_l0": [B0],
        "0.bias_hh_l0": [0.0],
        "0.weight_ih_l1": [[W1]],
        "0.weight_hh_l1": [[U1]],
        "0.bias_ih_l1": [B1],
        "0.bias_hh_l1": [0.0],
        "2.weight": [[V]],
        "2.bias": [C],
    },
    "loss": "half_sse",
    "learning_rate": 0.5,
    "inputs": [[X[0]], [X[1]]],
    "targets": [T],
}


def _rows(data: dict, **options) -> dict[str, float]:
    records = api.trace(data, **options).records
    return {typed(r.symbol): r.value for step in records.steps for _, r in step.equations()}


def _by_hand(w1: float = W1) -> dict[str, float]:
    """The example's forward and backward pass written out: mask (1, 0), 1/(1 − p) = 2."""
    a0 = math.tanh(W0 * X[0] + B0)  # l0 from the state 0
    a1 = math.tanh(W0 * X[1] + U0 * a0 + B0)
    d0, d1 = 1 * a0 * 2, 0 * a1 * 2  # what l1 reads: step 0's state kept, step 1's dropped
    c0 = math.tanh(w1 * d0 + B1)
    c1 = math.tanh(w1 * d1 + U1 * c0 + B1)
    y = V * c1 + C
    delta = T - y
    dnet1_1 = (1 - c1**2) * V * delta
    dnet1_0 = (1 - c0**2) * U1 * dnet1_1
    passed_0, passed_1 = w1 * dnet1_0, w1 * dnet1_1  # δh̃: back from l1 to what it read
    dh0_1 = 0 * passed_1 * 2  # dropped: nothing from above, and it is l0's last step
    dnet0_1 = (1 - a1**2) * dh0_1
    dh0_0 = 1 * passed_0 * 2 + U0 * dnet0_1
    return {
        "htilde0_l0[0,0]": d0,
        "htilde0_l0[1,0]": d1,
        "h0_l1[1,0]": c1,
        "E": 0.5 * delta**2,
        "deltahtilde0_l0[0,0]": passed_0,
        "deltahtilde0_l0[1,0]": passed_1,
        "deltah0_l0[1,0]": dh0_1,
        "deltah0_l0[0,0]": dh0_0,
        "dE/dw_ih0_l1[0,0]": -(dnet1_0 * d0 + dnet1_1 * d1),
        "dE/dw_ih0_l0[0,0]": -((1 - a0**2) * dh0_0 * X[0] + dnet0_1 * X[1]),
    }


def test_two_stacked_layers_through_a_fixed_mask_worked_by_hand():
    rows = _rows(TWO)
    for name, value in _by_hand().items():
        assert rows[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name
    # the dropped state passes nothing either way
    assert rows["htilde0_l0[1,0]"] == 0 and rows["deltah0_l0[1,0]"] == 0
    # w_ih_l1's gradient by central differences of the loss written out, through the mask
    h = 1e-6
    numeric = (_by_hand(W1 + h)["E"] - _by_hand(W1 - h)["E"]) / (2 * h)
    assert rows["dE/dw_ih0_l1[0,0]"] == pytest.approx(numeric, rel=1e-7)


def test_the_rows_write_the_mask_and_its_scale_and_what_was_dropped():
    records = api.trace(TWO).records
    sections = {s.title: s for s in records.steps[0].sections}
    dropout = sections["Dropout · layer 0 (rnn) · l0 → l1, p = 0.5"]
    rows = {r.symbol: r for r in dropout.rows}
    assert rows["h̃0_l0[0,0]"].formula == "{m0_l0[0,0]}·{h0_l0[0,0]}·2"
    assert rows["h̃0_l0[1,0]"].note == "dropped" and dropout.note == "1 of 2 states dropped"
    # l1 reads the dropped states; l0's δ from above goes back through the same mask
    every = {r.symbol: r for _, r in records.steps[0].equations()}
    assert every["net0_l1[1,0]"].formula.startswith("{w_ih0_l1[0,0]}·{h̃0_l0[1,0]} + ")
    assert every["δh̃0_l0[0,0]"].formula == "{w_ih0_l1[0,0]}·{δnet0_l1[0,0]}"
    assert every["δh0_l0[0,0]"].formula == (
        "{m0_l0[0,0]}·{δh̃0_l0[0,0]}·2 + {w_hh0_l0[0,0]}·{δnet0_l0[1,0]}"
    )
    assert every["δh0_l0[1,0]"].note == "dropped: nothing from above"
    titles = list(sections)
    l0_last = titles.index("Forward · layer 0 (rnn, tanh) · l0 · step t = 1")
    assert titles[l0_last + 1] == dropout.title  # between the layers, as torch applies it
    assert titles[l0_last + 2] == "Forward · layer 0 (rnn, tanh) · l1 · step t = 0"


def test_at_inference_nothing_is_dropped_and_the_loss_after_drops_nothing():
    plain = copy.deepcopy(TWO)
    for key in ("dropout", "dropout_mask"):
        del plain["model"][0]["rnn"][key]
    evaluated, undropped = api.trace(TWO, inference=True).records, api.trace(plain).records
    assert evaluated.steps[0].outputs == pytest.approx(undropped.steps[0].outputs, rel=1e-15)
    assert not any("h̃" in r.symbol for _, r in evaluated.steps[0].equations())
    # the loss after the step is the model's at inference: the updated model, nothing dropped
    trained = api.trace(TWO).records
    after = {**TWO, "parameters": {n: v.tolist() for n, v in trained.after.parameters}}
    assert trained.loss_after == pytest.approx(
        api.trace(after, inference=True).records.steps[0].loss
    )


# ---------------------------------------------------------------- random models by hand


def _dropped(seed: int, layers: int, two: bool, given: bool, top: str) -> dict:
    """A random stacked rnn (`_random`) with dropout p between its layers, a fixed mask."""
    data = _random(seed, layers, two, given, top, False)
    rng = np.random.default_rng([seed, 28])
    rnn = data["model"][0]["rnn"]
    p = float(rng.choice([0.2, 0.5]))
    shape = (layers - 1, len(data["inputs"]), (2 if two else 1) * rnn["hidden_size"])
    mask = (rng.random(shape) >= p).astype(int)
    mask[..., 0] = [1, 0][seed % 2]  # a kept and a dropped state in every model
    mask[..., -1] = [0, 1][seed % 2]
    rnn |= {"dropout": p, "dropout_mask": mask.tolist()}
    return data


FORMS = [(2, False, True, "last"), (3, False, False, "each"), (2, True, True, "each")]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("layers", "two", "given", "top"), FORMS)
def test_every_row_of_a_random_model_through_its_mask_is_its_value_worked_by_hand(
    seed, layers, two, given, top
):
    data = _dropped(seed, layers, two, given, top)
    traced, hand = _rows(data), rnn_by_hand.worked(data)
    for name, value in hand.items():
        assert traced[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    mine = {n for n in traced if n.startswith(("htilde0", "deltahtilde0", "deltah0", "h0"))}
    assert mine <= set(hand), sorted(mine - set(hand))[:5]


@pytest.mark.parametrize(("layers", "two", "given", "top"), FORMS)
def test_every_gradient_through_the_mask_is_the_central_difference_of_the_hand_forward(
    layers, two, given, top
):
    data = _dropped(4, layers, two, given, top)
    gradients = api.trace(data).records.steps[0].gradients
    for name, numeric in rnn_by_hand.central_differences(data).items():
        assert gradients[name] == pytest.approx(numeric, rel=1e-5, abs=1e-8), name


# ---------------------------------------------------------------- drawn masks


def _drawn(seed: int) -> dict:
    data = _dropped(1, 2, True, True, "last")
    rnn = data["model"][0]["rnn"]
    del rnn["dropout_mask"]
    rnn["dropout_seed"] = seed
    return data


def _masks_of(records, hidden: int) -> list[np.ndarray]:
    """Each step's mask as its rows write it, (T, 2·hidden): the forward direction's, then
    the reverse's."""
    out = []
    for step in records.steps:
        rows = {n: v for _, r in step.equations() for n, v in r.values().items()}
        steps = len(step.inputs)
        out.append(
            np.array(
                [
                    [
                        rows[f"m0_l0{tail}[{t},{j}]"]
                        for tail in ("", "_reverse")
                        for j in range(hidden)
                    ]
                    for t in range(steps)
                ]
            )
        )
    return out


def test_drawn_masks_follow_the_documented_rule_and_change_with_the_epoch():
    """Kept where a uniform draw from a Generator seeded with (dropout_seed, epoch, the dropout
    stream, the layer's position) is ≥ p, one (num_layers − 1, T, 2·hidden) draw per sample."""
    data = _drawn(11)
    rnn = data["model"][0]["rnn"]
    hidden, steps = rnn["hidden_size"], len(data["inputs"])
    trained = api.train(data, epochs=2, trace=(1, 2)).records
    for epoch, traced in enumerate(trained.traces, start=1):
        rng = np.random.default_rng([11, epoch, DROPOUT_STREAM, 0])
        expected = rng.random((1, 1, steps, 2 * hidden)) >= rnn["dropout"]
        assert np.array_equal(_masks_of(traced, hidden)[0], expected[0, 0].astype(float))
    first, second = (_masks_of(t, hidden)[0] for t in trained.traces)
    assert not np.array_equal(first, second)  # a new mask each epoch (this seed's)
    again = api.train(data, epochs=2, trace=(1, 2)).records
    assert np.array_equal(_masks_of(again.traces[0], hidden)[0], first)  # same seed, same mask


def test_verify_agrees_through_drawn_masks():
    checks = api.trace(_drawn(3), verify=True).records.checks
    assert checks and all(c.agrees for c in checks)


def test_a_saved_model_continues_its_masks(runner, tmp_path):
    """step -n 2 --save, then step -n 2 on what it saved, gives step -n 4's losses: the masks
    of epochs 3 and 4 are drawn as the whole run draws them (its epochs_done)."""
    path = written(tmp_path, _drawn(5))
    saved = tmp_path / "after.yaml"
    first = runner.invoke(cli, ["step", str(path), "-n", "2", "--save", str(saved)])
    assert first.exit_code == 0, first.output
    rnn = yaml.safe_load(saved.read_text(encoding="utf-8"))["model"][0]["rnn"]
    assert rnn["dropout"] == _drawn(5)["model"][0]["rnn"]["dropout"] and rnn["dropout_seed"] == 5

    def losses(*args: str) -> list[float]:
        result = runner.invoke(cli, ["step", *args, "--format", "json"])
        assert result.exit_code == 0, result.output
        return [e["loss"] for e in json.loads(result.output)["epochs"]]

    whole = losses(str(path), "-n", "4")
    assert losses(str(saved), "-n", "2") == pytest.approx(whole[2:], rel=1e-12)


# ---------------------------------------------------------------- marking, quiz, exercise, books


def test_check_marks_every_answer_right_and_names_the_forgotten_scale():
    data = _dropped(0, 2, False, True, "last")
    hand = rnn_by_hand.worked(data)
    report = api.check({n: round(v, 9) for n, v in hand.items()}, data)
    assert report["counts"]["wrong"] == 0 and report["counts"]["right"] == len(hand)
    kept = next(n for n in hand if n.startswith("htilde") and hand[n] != 0)
    unscaled = hand[kept] * (1 - data["model"][0]["rnn"]["dropout"])  # m·h, the scale left out
    (answer,) = api.check({kept: unscaled}, data)["answers"]
    assert answer["verdict"] == "wrong"
    assert answer["mistakes"] == [
        "dropout's scale forgotten (kept outputs not multiplied by 1/(1 − rate))"
    ]
    # a value wrong another way gets no slip's name
    (other,) = api.check({kept: hand[kept] + 0.3}, data)["answers"]
    assert other["verdict"] == "wrong" and not other["mistakes"]


def test_quiz_asks_the_dropped_states_and_their_deltas(runner, tmp_path):
    path = written(tmp_path, TWO)
    rows = _rows(TWO)
    asked = ["htilde0_l0[0,0]", "htilde0_l0[1,0]"]
    typed_in = "".join(f"{rows[n]:.9g}\n" for n in asked)
    result = runner.invoke(cli, ["quiz", str(path), "--ask", "htilde0_l0"], input=typed_in)
    assert result.exit_code == 0, result.output
    assert "Score: 2 of 2" in result.output
    deltas = "".join(f"{rows[f'deltahtilde0_l0[{t},0]']:.9g}\n" for t in (1, 0))
    result = runner.invoke(cli, ["quiz", str(path), "--ask", "deltahtilde0_l0"], input=deltas)
    assert "Score: 2 of 2" in result.output, result.output


def test_an_exercise_sheet_gives_the_mask_and_its_key_marks_the_hand_answers(runner, tmp_path):
    data = _dropped(0, 2, False, True, "last")
    for drawn, sheet in exercised(runner, tmp_path, data, 4):
        assert drawn["model"][0]["rnn"]["dropout_mask"] == data["model"][0]["rnn"]["dropout_mask"]
        assert (
            "| dropout_mask of layer 0 (1 keeps a state of layer l for layer l + 1) | [[[" in sheet
        )
        assert "`htilde0_l0[0,0]`" in sheet and "`deltahtilde0_l0[0,0]`" in sheet
        hand = rnn_by_hand.worked(drawn)
        report = api.check({n: round(v, 9) for n, v in hand.items()}, drawn)
        assert report["counts"]["wrong"] == 0


def test_a_sheet_of_drawn_masks_gives_each_samples_mask(runner, tmp_path):
    """Two samples: the sheet gives each its mask of a run's epoch, drawn by the rule."""
    data = _drawn(7)
    second = (np.array(data["inputs"]) * -0.5).tolist()
    data["samples"] = [
        {"inputs": data.pop("inputs"), "targets": data["targets"]},
        {"inputs": second, "targets": data.pop("targets")},
    ]
    rnn = data["model"][0]["rnn"]
    shape = (2, 1, len(second), 2 * rnn["hidden_size"])
    drawn = np.random.default_rng([7, 1, DROPOUT_STREAM, 0]).random(shape) >= rnn["dropout"]
    for _, sheet in exercised(runner, tmp_path, data, 4):
        for number, mask in enumerate(drawn.astype(int).tolist(), start=1):
            what = "dropout_mask of layer 0 (1 keeps a state of layer l for layer l + 1)"
            assert f"| {what}, sample {number} | {mask} |" in sheet


def test_in_a_book_the_dropped_state_takes_a_tilde_and_its_delta_the_books_sign():
    lecture = _rows(TWO)
    records = api.trace(TWO, notation="nielsen").records
    rows = {r.symbol: r.value for _, r in records.steps[0].equations()}
    assert rows["ã^2_l0[0,0]"] == lecture["htilde0_l0[0,0]"]
    assert rows["δh̃^2_l0[0,0]"] == -lecture["deltahtilde0_l0[0,0]"]
    markdown = api.trace(TWO, notation="nielsen").markdown()
    assert "{\\tilde{a}}^{2,\\,\\ell_{0}}_{0,0}" in markdown


# ---------------------------------------------------------------- bad configs


def _with(**rnn) -> dict:
    data = copy.deepcopy(TWO)
    data["model"][0]["rnn"] |= rnn
    return data


@pytest.mark.parametrize(
    ("rnn", "key", "problem"),
    [
        ({"dropout": 1.0}, "dropout", "1.0 is not in [0, 1): p is the chance to drop a state"),
        ({"dropout": -0.1}, "dropout", "-0.1 is not in [0, 1)"),
        ({"dropout": "half"}, "dropout", "'half' is not a number"),
        ({"dropout": True}, "dropout", "true is not a number"),
        (
            {"num_layers": 1, "dropout_mask": None},
            "dropout",
            "dropout acts between stacked layers (after every layer but the last), so with "
            "num_layers 1 it would drop nothing (torch warns and drops nothing); give "
            "num_layers ≥ 2, or leave dropout out",
        ),
        (
            {"dropout": 0, "dropout_mask": [[1], [0]]},
            "dropout_mask",
            "a dropout_mask drops states only with dropout > 0",
        ),
        ({"dropout_mask": [[1], [2]]}, "dropout_mask[1][0]", "2 is not 0 or 1: 1 keeps a state"),
        (
            {"dropout_mask": [[1, 0], [0, 1]]},
            "dropout_mask[0]",
            "found 2 entries where 1 is expected: dropout_mask is [num_layers − 1][steps][1] of "
            "0s and 1s, 1 keeps a state, or [steps][1]",
        ),
        ({"dropout_seed": -1}, "dropout_seed", "-1 is out of range; expected a whole number ≥ 0"),
    ],
)
def test_a_bad_dropout_is_exit_2_with_its_file_line_and_field(runner, tmp_path, rnn, key, problem):
    data = _with(**rnn)
    if rnn.get("dropout_mask", 1) is None:
        del data["model"][0]["rnn"]["dropout_mask"]
    if data["model"][0]["rnn"]["num_layers"] == 1:
        data["parameters"] = {k: v for k, v in data["parameters"].items() if "_l1" not in k}
    if "[" in key:  # an entry of the mask: its own line, the field down to it
        path = written(tmp_path, data)
        result = runner.invoke(cli, ["run", str(path)])
        assert result.exit_code == 2 and "Traceback" not in result.output
        text = path.read_text(encoding="utf-8").splitlines()
        line = 1 + next(n for n, row in enumerate(text) if "dropout_mask:" in row)
        line += 1 + int(key[len("dropout_mask[")])  # below it, a step's row a line
        assert f"model.yaml, line {line}, " in result.output, result.output
        assert f", model[0].rnn.{key}: {problem}" in result.output.replace("\n", " ")
        return
    assert_refused(runner, tmp_path, data, 0, key, problem)


def test_a_mask_of_other_steps_than_the_inputs_names_the_layer(runner, tmp_path):
    path = written(tmp_path, _with(dropout_mask=[[1], [0], [1]]))
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.replace("\n", " ").startswith(
        f"Error: {path}, line 3, column 3, model[0]: layer 0 (rnn) has a dropout_mask of 3 "
        "steps; it drops states of every step of the sequence, 2; the inputs are 2×1"
    ), result.output


def test_check_names_says_it_marks_the_training_pass_through_the_masks(runner, tmp_path):
    """Eval mode drops nothing, so an answer worked at eval would differ: said, as batch norm's
    is; an rnn without dropout computes the same either way and says nothing."""
    path = written(tmp_path, TWO)
    names = runner.invoke(cli, ["check", "--names", str(path)], env={"COLUMNS": "200"})
    assert names.exit_code == 0, names.output
    assert (
        "Note: marked in training mode, as `run` traces it (the rnn's dropout between its "
        "layers, through its masks); eval mode (`--eval`) is traced, not marked"
    ) in names.output
    plain = runner.invoke(cli, ["check", "--names", "rnn"], env={"COLUMNS": "200"})
    assert "marked in training mode" not in plain.output
