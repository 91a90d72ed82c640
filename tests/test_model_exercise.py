"""`backtrace exercise` on a `model:` of tensor layers: fair variants of the conv1d example
(the same layers, new nice parameters and inputs, its target kept), their sheets and keys,
and a class of them marked into one gradebook.

Every number a test expects comes from the forward pass written out below in numpy (torch's
conv1d is a cross-correlation: y[c,t] = b[c] + Σ_i Σ_k w[c,i,k]·x[i,t+k]) — never from the
tool's own output — and the gradients a fair draw needs from central finite differences of it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import MODELS

from backtrace_cli.cli import cli
from backtrace_cli.network.layers import activation, maxpool1d
from backtrace_cli.network.model_spec import LayerSpec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = yaml.safe_load((ROOT / "configs" / "conv1d.yaml").read_text(encoding="utf-8"))
SEED, COUNT = 3, 4


def forward(cfg: dict) -> dict[str, float]:
    """The conv1d example's forward pass by hand: conv1d(1→2, k=2) → relu → maxpool1d(2) →
    flatten → linear(4→1), mean squared error — each quantity under its answers-file name."""
    p = {name: np.array(value, dtype=float) for name, value in cfg["parameters"].items()}
    x = np.array(cfg["inputs"], dtype=float)
    t = np.array(cfg["targets"], dtype=float)
    w, b = p["0.weight"], p["0.bias"]
    z = np.array(
        [[b[c] + sum(w[c, 0, k] * x[0, s + k] for k in range(2)) for s in range(5)] for c in (0, 1)]
    )
    r = np.maximum(z, 0.0)
    pooled = np.array([[max(r[c, 2 * s], r[c, 2 * s + 1]) for s in range(2)] for c in (0, 1)])
    y = p["4.weight"] @ pooled.ravel() + p["4.bias"]
    out = {f"y0[{c},{s}]": z[c, s] for c in (0, 1) for s in range(5)}
    out |= {f"y1[{c},{s}]": r[c, s] for c in (0, 1) for s in range(5)}
    out |= {f"y2[{c},{s}]": pooled[c, s] for c in (0, 1) for s in range(2)}
    out |= {"y4[0]": y[0], "e[0]": t[0] - y[0], "E": float(np.mean((t - y) ** 2))}
    return {name: float(value) for name, value in out.items()}


def gradients(cfg: dict) -> dict[str, np.ndarray]:
    """∂E/∂θ of every parameter by central finite differences of `forward`."""
    out = {}
    for name, value in cfg["parameters"].items():
        base = np.array(value, dtype=float)
        grad = np.zeros_like(base)
        for index in np.ndindex(*base.shape):
            moved = []
            for h in (1e-6, -1e-6):
                shifted = base.copy()
                shifted[index] += h
                moved.append(forward({**cfg, "parameters": {**cfg["parameters"], name: shifted}}))
            grad[index] = (moved[0]["E"] - moved[1]["E"]) / 2e-6
        out[name] = grad
    return out


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    folder = tmp_path_factory.mktemp("set") / "conv"
    args = ["exercise", "conv1d", "--variants", str(COUNT), "--seed", str(SEED), "-o", str(folder)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return folder


def configs(folder: Path) -> dict[str, dict]:
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((folder / "configs").glob("*.yaml"))
    }


def nice(values) -> bool:
    """Multiples of 0.1 in [−1, 1], none of them 0 or ±1 (`exercise`'s default values)."""
    a = np.ravel(np.array(values, dtype=float))
    tenths = a * 10
    return bool(
        np.allclose(tenths, np.round(tenths)) and (np.abs(a) < 1).all() and (np.abs(a) > 0.05).all()
    )


def test_every_variant_draws_nice_parameters_and_inputs_and_keeps_the_rest(drawn):
    found = configs(drawn)
    assert list(found) == [f"conv1d-s{SEED}-v{n:02d}" for n in range(1, COUNT + 1)]
    seen = set()
    for cfg in found.values():
        assert cfg["model"] == EXAMPLE["model"] and cfg["targets"] == EXAMPLE["targets"]
        assert cfg["loss"] == EXAMPLE["loss"] and cfg["learning_rate"] == EXAMPLE["learning_rate"]
        for name, value in cfg["parameters"].items():
            assert np.shape(value) == np.shape(EXAMPLE["parameters"][name]) and nice(value)
        assert np.shape(cfg["inputs"]) == np.shape(EXAMPLE["inputs"]) and nice(cfg["inputs"])
        seen.add(json.dumps([cfg["parameters"], cfg["inputs"]]))
    assert len(seen) == COUNT


def test_no_variant_sits_at_a_kink_a_near_tie_or_a_vanishing_gradient(drawn):
    """Recomputed by hand: no conv output (relu's input) within 0.02 of 0, no pooling window
    whose two inputs are within 0.02, every parameter's gradient at least 0.001 in size."""
    for ident, cfg in configs(drawn).items():
        values = forward(cfg)
        z = np.array([[values[f"y0[{c},{s}]"] for s in range(5)] for c in (0, 1)])
        assert (np.abs(z) > 0.02).all(), ident
        r = np.maximum(z, 0.0)
        for c in (0, 1):
            for s in range(2):
                assert abs(r[c, 2 * s] - r[c, 2 * s + 1]) > 0.02, (ident, c, s)
        for name, grad in gradients(cfg).items():
            assert (np.abs(grad) >= 0.001 - 1e-7).all(), (ident, name, grad)


def test_each_variants_loss_is_its_own_and_lies_in_the_band(drawn):
    manifest = json.loads((drawn / "exercise.json").read_text(encoding="utf-8"))
    low, high = manifest["loss_band"]
    assert 0 < low < high
    for ident, cfg in configs(drawn).items():
        entry = manifest["variants"][ident]
        assert entry["loss"] == pytest.approx(forward(cfg)["E"], rel=1e-12)
        assert low <= entry["loss"] <= high
        assert entry["questions"][:3] == ["y0[0,0]", "y0[0,1]", "y0[0,2]"]
    about = (drawn / "index.md").read_text(encoding="utf-8")
    assert "the parameters and inputs are drawn, the targets kept" in about
    assert "no pooling window is a near tie" in about


def test_a_sheet_gives_every_tensor_and_no_number_of_its_solution(drawn):
    for ident, cfg in configs(drawn).items():
        sheet = (drawn / "questions" / f"{ident}.md").read_text(encoding="utf-8")
        given = sheet.split("## Given", 1)[1].split("## Your answers", 1)[0]
        flat = ", ".join(f"{v:g}".replace("-", "−") for v in np.ravel(cfg["inputs"]))
        assert f"| input x | [[{flat}]] |" in given
        assert "| `0.weight` |" in given and "| `4.bias` |" in given
        for name, value in forward(cfg).items():
            written = f"{abs(value):.6f}".rstrip("0")
            if len(written.split(".")[1]) > 2:  # not one of the givens' tenths (relu's y1 = y0)
                assert written not in sheet, (ident, name)
        assert "`y2[1,1]`" in sheet and f"variant: {ident}" in sheet


def test_a_class_of_model_variants_is_marked_into_one_gradebook(drawn, runner, tmp_path):
    """Three students, each their variant's forward pass by hand; the second writes y0[0,1]
    wrong and every later value right: that one answer is wrong, the rest right."""
    found = configs(drawn)
    files = []
    for number, (ident, cfg) in enumerate(list(found.items())[:3], start=1):
        answers = {name: round(value, 6) for name, value in forward(cfg).items()}
        if number == 2:
            answers["y0[0,1]"] = round(answers["y0[0,1]"] + 0.25, 6)
        path = tmp_path / f"student{number}.yaml"
        path.write_text(
            yaml.safe_dump({"variant": ident, "student": f"S{number}", "answers": answers})
        )
        files.append(str(path))
    book = tmp_path / "grades.csv"
    args = ["check", "--exercises", str(drawn), *files, "--gradebook", str(book)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1, result.output  # someone is wrong or missing something
    rows = list(csv.DictReader(book.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["student"] for r in rows] == ["S1", "S2", "S3"]
    answered = list(forward(next(iter(found.values()))))
    for r in rows:
        marks = {name: r[name] for name in answered}
        expected = {
            n: "wrong" if (r["student"], n) == ("S2", "y0[0,1]") else "right" for n in answered
        }
        assert marks == expected, r["student"]
    assert rows[1]["first_wrong"] == "y0[0,1]"


def test_a_gradients_column_is_marked_by_the_quantity_not_by_its_spelling(drawn, runner, tmp_path):
    """A sheet asks dE/dw0[0,0,1]; the report names it ∂E/∂w0[0,0,1]: one quantity, one column,
    right (each gradient by central finite differences here)."""
    ident, cfg = next(iter(configs(drawn).items()))
    answers = {
        f"dE/dw{name.split('.')[0]}[{','.join(map(str, index))}]": round(float(grad[index]), 6)
        for name, grad in gradients(cfg).items()
        if name.endswith("weight")
        for index in np.ndindex(*grad.shape)
    }
    path = tmp_path / "student.yaml"
    path.write_text(yaml.safe_dump({"variant": ident, "student": "S", "answers": answers}))
    book = tmp_path / "grades.csv"
    args = ["check", "--exercises", str(drawn), str(path), "--gradebook", str(book)]
    runner.invoke(cli, args)
    (row,) = csv.DictReader(book.read_text(encoding="utf-8-sig").splitlines())
    assert len(answers) == 8 and {row[name] for name in answers} == {"right"}


def test_the_same_seed_gives_the_same_files_and_another_seed_others(drawn, runner, tmp_path):
    again = tmp_path / "again"
    args = ["exercise", "conv1d", "--variants", str(COUNT), "--seed", str(SEED), "-o", str(again)]
    assert runner.invoke(cli, args).exit_code == 0
    for path in sorted(drawn.rglob("*")):
        if path.is_file():
            assert (again / path.relative_to(drawn)).read_bytes() == path.read_bytes(), path
    other = tmp_path / "other"
    args = ["exercise", "conv1d", "--variants", "1", "--seed", str(SEED + 1), "-o", str(other)]
    assert runner.invoke(cli, args).exit_code == 0
    assert configs(other)[f"conv1d-s{SEED + 1}-v01"] != configs(drawn)[f"conv1d-s{SEED}-v01"]


def layer(kind: str, shape_in: tuple[int, ...], **arguments) -> LayerSpec:
    return LayerSpec(kind, "1", tuple(arguments.items()), shape_in, shape_in)


def test_each_kind_says_where_it_is_unfair_by_itself():
    relu = layer("relu", (3,))
    assert activation.unfair(relu, np.array([0.5, 0.019, -0.4]), np.zeros(3)) is not None
    assert activation.unfair(relu, np.array([0.5, 0.021, -0.4]), np.zeros(3)) is None
    sigmoid = layer("sigmoid", (2,))
    assert activation.unfair(sigmoid, np.array([-0.01, 0.7]), np.zeros(2)) is not None
    softmax = layer("softmax", (2,))  # softmax has no kink: an input of 0 is as good as any
    assert activation.unfair(softmax, np.array([0.0, 0.7]), np.zeros(2)) is None
    arguments = (("kernel_size", 2), ("stride", 2), ("padding", 0))  # as the reader fills them
    pool = LayerSpec("maxpool1d", "2", arguments, (1, 4), (1, 2))
    assert maxpool1d.unfair(pool, np.array([[0.5, 0.51, 0.2, 0.9]]), np.zeros((1, 2))) is not None
    assert maxpool1d.unfair(pool, np.array([[0.5, 0.6, 0.2, 0.9]]), np.zeros((1, 2))) is None


@pytest.mark.parametrize("source", MODELS)
def test_every_built_in_model_draws_variants_whose_sheets_give_their_tensors(
    runner, tmp_path, source
):
    """conv1d, cnn (softmax: its backward needs the engine's own carry), rnn and batchnorm
    (the bias right below batch norm has a gradient of 0 by design, not an unfair draw)."""
    folder = tmp_path / "set"
    args = ["exercise", source, "--variants", "2", "--seed", "1", "-o", str(folder)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    for path in sorted((folder / "questions").glob(f"{source}-s1-v0*.md")):
        cfg = yaml.safe_load((folder / "configs" / f"{path.stem}.yaml").read_text())
        sheet = path.read_text(encoding="utf-8")
        for name in cfg["parameters"]:
            assert f"| `{name}` |" in sheet, (path.name, name)


def test_a_2d_max_pool_says_where_it_is_a_near_tie():
    from backtrace_cli.network.layers import maxpool2d

    arguments = (("kernel_size", (2, 2)), ("stride", (2, 2)), ("padding", (0, 0)))
    pool = LayerSpec("maxpool2d", "2", arguments, (1, 2, 4), (1, 1, 2))
    tie = np.array([[[0.5, 0.2, 0.1, 0.9], [0.51, 0.3, 0.4, 0.2]]])  # 0.5 and 0.51: one window
    apart = np.array([[[0.5, 0.2, 0.1, 0.9], [0.6, 0.3, 0.4, 0.2]]])
    assert maxpool2d.unfair(pool, tie, np.zeros((1, 1, 2))) is not None
    assert maxpool2d.unfair(pool, apart, np.zeros((1, 1, 2))) is None
