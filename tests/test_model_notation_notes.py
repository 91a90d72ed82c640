"""A model's notes in a book: a later layer's receptive field names the tensor that layer
reads, as its rule does; a book's names keep their underscores in the markdown's \\text{}.

The names expected are written by hand from each book's conventions (docs/layers.md, "Its names
in each book"); the positions from the kernel and stride: output t of a kernel of 2 at stride 1
reads t…t + 1.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from backtrace_cli.cli import cli

BOOKS = ("nielsen", "hagan", "mazur")


TWO_CONVS = {
    "name": "two convolutions",
    "model": [
        {"conv1d": {"in_channels": 1, "out_channels": 1, "kernel_size": 2}},
        "relu",
        {"conv1d": {"in_channels": 1, "out_channels": 1, "kernel_size": 2}},
        "flatten",
        {"linear": {"name": "out", "in_features": 3, "out_features": 1}},
    ],
    "parameters": {
        "0.weight": [[[0.5, -0.3]]],
        "0.bias": [0.1],
        "2.weight": [[[0.4, 0.2]]],
        "2.bias": [0.0],
        "out.weight": [[0.3, -0.6, 0.2]],
        "out.bias": [0.05],
    },
    "loss": "mse",
    "learning_rate": 0.1,
    "inputs": [[1.0, 0.2, -0.5, 0.9, 0.4]],
    "targets": [0.8],
}

# what the second convolution (layer 2) reads, in each book: the relu's output, layer 1's
# (the books number the input as their first layer; Hagan numbers from the first weights)
SECOND_READS = {"lecture": "x", "nielsen": "a^2", "hagan": "a^1", "mazur": "out_h1"}
FIRST_READS = {"lecture": "x", "nielsen": "a^1", "hagan": "p", "mazur": "i"}


@pytest.mark.parametrize("book", ["lecture", *BOOKS])
def test_a_later_convolutions_receptive_field_names_its_own_input(runner, tmp_path, book):
    """Its note slices the tensor the layer reads, as its rule's x does: after a relu, that
    relu's output, not the model's input (the lecture's x is the layer's own input)."""
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(TWO_CONVS))
    result = runner.invoke(cli, ["run", str(path), "--notation", book, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["steps"][0]["equations"]
    notes: dict[str, list[str]] = {r["title"]: [] for r in rows}
    for r in rows:
        if "receptive field" in r.get("note", ""):
            notes[r["title"]].append(r["note"])
    first, second = [found for found in notes.values() if found]
    # positions t…t+1 for kernel 2, stride 1: 4 outputs of 5 inputs, then 3 of 4
    assert first == [f"receptive field {FIRST_READS[book]}[:, {t}…{t + 1}]" for t in range(4)]
    assert second == [f"receptive field {SECOND_READS[book]}[:, {t}…{t + 1}]" for t in range(3)]


def test_a_note_keeps_the_underscores_of_mazurs_names_in_the_markdown(runner):
    """Mazur's out_h1 in a max pool's note is written out\\_h1 inside \\text{} (KaTeX's text
    mode), not run together as outh1."""
    result = runner.invoke(cli, ["run", "cnn", "--notation", "mazur", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    notes = re.findall(r"\\text\{(keeps [^}]*)\}", result.output)
    assert notes and all(n.startswith("keeps out\\_h1[") for n in notes), notes
    assert "outh1" not in result.output
