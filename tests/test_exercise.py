"""`backtrace exercise`: variants with nice numbers, question sheets without answers, answer keys
that are exactly what `run` says for the variant's config, reproducible from the seed."""

from __future__ import annotations

import numpy as np

from backtrace_cli import config, engine
from backtrace_cli.cli import cli
from backtrace_cli.exercise import Values, variant


def write(runner, folder, *extra):
    result = runner.invoke(
        cli, ["exercise", "lecture", "--variants", "4", "--seed", "7", "-o", str(folder), *extra]
    )
    assert result.exit_code == 0, result.output
    return sorted(p.name for p in folder.iterdir())


def test_files_ids_and_answer_keys_equal_run(runner, tmp_path):
    names = write(runner, tmp_path)
    assert len(names) == 4 * 3 + 1 and "index.md" in names
    index = (tmp_path / "index.md").read_text()
    for n in range(1, 5):
        ident = f"lecture-s7-v{n:02d}"
        files = [f"{ident}.yaml", f"{ident}-question.md", f"{ident}-answers.md"]
        for name in files:
            assert ident in (tmp_path / name).read_text(), name  # the id is in every file
            assert name in index
        spec = config.load(str(tmp_path / f"{ident}.yaml"))  # loads
        assert spec.layers == (2, 2, 1)
        ran = runner.invoke(cli, ["run", str(tmp_path / f"{ident}.yaml"), "--format", "markdown"])
        assert ran.output == (tmp_path / f"{ident}-answers.md").read_text()
        question = (tmp_path / f"{ident}-question.md").read_text()
        assert "Your answers" in question and "\\delta_{5}" in question
        # no answers on the question sheet: not the new weight, not the loss
        doc = runner.invoke(cli, ["run", str(tmp_path / f"{ident}.yaml"), "--format", "json"])
        import json

        summary = json.loads(doc.output)["summary"]
        assert f"{summary['parameters']['w45']['after']:.6f}".rstrip("0") not in question
        assert f"{summary['loss_before']:.6f}".rstrip("0") not in question


def test_nice_values_and_no_degenerate_cases():
    values = Values(-1, 1, 1)
    spec = config.from_dict(
        {
            "layers": [2, 3, 1],
            "activations": ["relu", "linear"],
            "learning_rate": 0.1,
            "inputs": [0.5, 0.5],
            "targets": [0.0],
            "weights": {"init": "uniform", "seed": 0},
            "biases": [[0, 0, 0], [0]],
        }
    )
    for n in range(1, 40):
        v = variant(spec, 3, n, values, "net")
        arrays = [*v.spec.weights, *v.spec.biases, v.spec.samples[0].inputs]
        for a in arrays:
            assert np.all(np.abs(a) <= 1)
            assert np.allclose(a * 10, np.round(a * 10))  # one decimal
        done = engine.update(v.spec, (0,))
        assert np.all(np.abs(done.layers[0].net) > 1e-12)  # no relu unit at its kink
        assert np.all(np.abs(done.error) >= 0.05)  # the target is not the output


def test_same_seed_same_files_other_seed_other_files(runner, tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write(runner, a)
    write(runner, b)
    for name in write(runner, a, "--force"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    runner.invoke(cli, ["exercise", "lecture", "--variants", "4", "--seed", "8", "-o", str(c)])
    assert (c / "lecture-s8-v01.yaml").read_text() != (a / "lecture-s7-v01.yaml").read_text()


def test_exercise_refuses_to_overwrite_and_bad_ranges(runner, tmp_path):
    write(runner, tmp_path)
    again = runner.invoke(
        cli, ["exercise", "lecture", "--variants", "1", "-o", str(tmp_path), "--seed", "7"]
    )
    assert again.exit_code == 2 and "exists already" in again.output
    bad = runner.invoke(cli, ["exercise", "lecture", "-o", str(tmp_path), "--range", "1,-1"])
    assert bad.exit_code == 2 and "LOW must be below HIGH" in bad.output


def test_a_student_who_fills_the_sheet_right_passes_check(runner, tmp_path):
    """Round trip: the names the question sheet asks for, filled with the run's values at
    full precision, make `check` exit 0."""
    import json
    import re

    write(runner, tmp_path)
    ident = "lecture-s7-v02"
    question = (tmp_path / f"{ident}-question.md").read_text()
    names = re.findall(r"\| `([^`]+)` \| \|", question)
    assert "delta5" in names and "w45" in names and "dw13" in names
    doc = json.loads(
        runner.invoke(cli, ["run", str(tmp_path / f"{ident}.yaml"), "--format", "json"]).output
    )
    from backtrace_cli.check import symbol_for

    values = {e["symbol"]: e["value"] for e in doc["steps"][0]["equations"]}
    lines = [f"  {name}: {values[symbol_for(name)]!r}" for name in names]
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"exercise: {ident}.yaml\nanswers:\n" + "\n".join(lines) + "\n")
    result = runner.invoke(cli, ["check", str(answers)])
    assert result.exit_code == 0, result.output
    assert f"{len(names)} of {len(names)} answers correct" in result.output
