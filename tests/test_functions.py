"""Each activation and loss is one definition that every stage reads: the names a config
accepts, the schema's enums and the error messages all come from the registries."""

from __future__ import annotations

import json
import re
from importlib.resources import files

import pytest

from backtrace_cli.core.errors import ConfigError
from backtrace_cli.definitions import activations, losses
from backtrace_cli.network.config import from_dict


def _schema() -> dict:
    return json.loads(files("backtrace_cli").joinpath("trace.schema.json").read_text())


def test_the_json_schema_lists_exactly_the_registered_activations_and_losses():
    schema = _schema()
    network = schema["properties"]["network"]["properties"]
    assert network["activations"]["items"]["enum"] == list(activations.NAMES)
    assert network["loss"]["enum"] == list(losses.NAMES)
    text = json.dumps(schema)
    # every other place the schema names an activation lists the same set
    assert text.count(json.dumps(list(activations.NAMES))) == text.count('"sigmoid"')


@pytest.mark.parametrize("key", ["activation", "loss"])
def test_an_unknown_name_is_refused_with_every_registered_name_listed(key):
    data = {
        "layers": [1, 1],
        "activation": "sigmoid",
        "learning_rate": 1,
        "inputs": [1],
        "targets": [0.5],
        "weights": [[[0.5]]],
        key: "swish",
    }
    with pytest.raises(ConfigError) as err:
        from_dict(data)
    names = activations.NAMES if key == "activation" else losses.NAMES
    for name in names:
        assert name in str(err.value)


def test_every_definition_writes_its_formulas_with_its_own_slots():
    for a in activations.ACTIVATIONS.values():
        assert "{net}" in a.output
        assert set(re.findall(r"\{(\w+)\}", a.slope)) <= {"o", "net"}
    for loss in losses.LOSSES.values():
        for template in (loss.term, loss.derivative):
            assert set(re.findall(r"\{(\w+)\}", template)) <= {"e", "t", "o", "n"}
