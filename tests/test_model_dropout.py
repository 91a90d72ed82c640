"""`dropout` as a `model:` layer (torch's nn.Dropout(p)), with the network's semantics: each
entry kept with probability 1 − p, the kept scaled by 1/(1 − p), nothing dropped at inference.
Expected numbers: a step worked by hand below, and central finite differences of the loss
through the same fixed mask."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from backtrace_cli import api, models
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network import model_engine
from backtrace_cli.network.layers import tensor_dropout

# x = [1, 0.5, −0.5] → linear(3→4) → relu → dropout(p = 0.5, mask [1, 0, 1, 1]) → linear(4→1)
HAND = {
    "name": "dropout by hand",
    "model": [
        {"linear": {"in_features": 3, "out_features": 4}},
        "relu",
        {"dropout": {"p": 0.5, "mask": [1, 0, 1, 1]}},
        {"linear": {"in_features": 4, "out_features": 1}},
    ],
    "parameters": {
        "0.weight": [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6], [0.7, 0.8, 0.9], [-0.2, 0.3, 0.5]],
        "0.bias": [0.1, 0.0, -0.1, 0.2],
        "3.weight": [[0.3, -0.4, 0.5, 0.6]],
        "3.bias": [0.05],
    },
    "loss": "half_sse",
    "learning_rate": 0.1,
    "inputs": [1.0, 0.5, -0.5],
    "targets": [0.7],
}


def _rows(data: dict, **options) -> dict[str, float]:
    records = api.trace(models.from_dict(data), **options).records
    return {row.symbol: row.value for step in records.steps for _, row in step.equations()}


def test_a_fixed_mask_worked_by_hand():
    # y0 = W·x + b: 0.1 + 0.1 + 0.15 + 0.1 = 0.45; 0.4 − 0.25 − 0.3 + 0 = −0.15;
    # 0.7 + 0.4 − 0.45 − 0.1 = 0.55; −0.2 + 0.15 − 0.25 + 0.2 = −0.1. relu: [0.45, 0, 0.55, 0].
    # dropout, p = 0.5: the kept ×2, y2 = [0.9, 0 (dropped), 1.1, 0].
    # y3 = 0.3·0.9 + 0.5·1.1 + 0.05 = 0.87; δ3 = t − y = −0.17, E = ½·0.17² = 0.01445.
    # δ2 = w3ᵀ·δ3 = [−0.051, 0.068, −0.085, −0.102]; through the mask ×2: δ1 = [−0.102, 0,
    # −0.17, −0.204]; relu passes where y0 > 0: δ0 = [−0.102, 0, −0.17, 0].
    rows = _rows(HAND)
    expected = {"y2[0]": 0.9, "y2[1]": 0.0, "y2[2]": 1.1, "y2[3]": 0.0, "y3[0]": 0.87}
    expected |= {"E": 0.01445, "δ1[0]": -0.102, "δ1[1]": 0.0, "δ1[2]": -0.17, "δ1[3]": -0.204}
    expected |= {"δ0[0]": -0.102, "δ0[1]": 0.0, "δ0[2]": -0.17, "δ0[3]": 0.0}
    # the weight into the dropped unit does not move: ∂E/∂w3[0,1] = −δ3·y2[1] = 0
    expected |= {"∂E/∂w3[0,1]": 0.0, "∂E/∂w3[0,2]": 0.17 * 1.1, "∂E/∂b0[2]": 0.17}
    for name, value in expected.items():
        assert rows[name] == pytest.approx(value, abs=1e-12), name


def test_at_inference_nothing_is_dropped():
    rows = _rows(HAND, inference=True)
    # y2 = y1 = [0.45, 0, 0.55, 0]: y3 = 0.3·0.45 + 0.5·0.55 + 0.05 = 0.46
    assert [rows[f"y2[{j}]"] for j in range(4)] == pytest.approx([0.45, 0, 0.55, 0])
    assert rows["y3[0]"] == pytest.approx(0.46)


def _random(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    c_in, c_out, k = (int(v) for v in rng.integers(1, 4, 3))
    length = k + int(rng.integers(2, 5))
    out = length - k + 1
    mask = (rng.random((c_out, out)) >= 0.4).astype(int).tolist()
    return {
        "model": [
            {"conv1d": {"in_channels": c_in, "out_channels": c_out, "kernel_size": k}},
            "tanh",
            {"dropout": {"p": float(rng.choice([0.2, 0.4, 0.5])), "mask": mask}},
            "flatten",
            {"linear": {"in_features": c_out * out, "out_features": 2}},
        ],
        "parameters": {
            "0.weight": rng.normal(size=(c_out, c_in, k)).tolist(),
            "0.bias": rng.normal(size=c_out).tolist(),
            "4.weight": rng.normal(size=(2, c_out * out)).tolist(),
            "4.bias": rng.normal(size=2).tolist(),
        },
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": rng.normal(size=(c_in, length)).tolist(),
        "targets": rng.normal(size=2).tolist(),
    }


def _loss(data: dict, parameters: dict[str, np.ndarray]) -> float:
    """The loss written here in numpy: conv (cross-correlation), tanh, the mask ×1/(1 − p),
    linear, mse — independent of the program's forward pass."""
    x = np.array(data["inputs"])
    w, b = parameters["0.weight"], parameters["0.bias"]
    k = w.shape[2]
    n = x.shape[1] - k + 1
    y = np.array([[np.sum(w[c] * x[:, t : t + k]) + b[c] for t in range(n)] for c in range(len(w))])
    drop = data["model"][2]["dropout"]
    y = np.tanh(y) * np.array(drop["mask"]) / (1 - drop["p"])
    out = parameters["4.weight"] @ y.reshape(-1) + parameters["4.bias"]
    return float(np.mean((np.array(data["targets"]) - out) ** 2))


@pytest.mark.parametrize("seed", range(10))
def test_every_gradient_through_a_fixed_mask_is_its_central_finite_difference(seed):
    data = _random(seed)
    spec = models.from_dict(data)
    sample = spec.samples[0]
    layers = model_engine.build(spec, masks=model_engine.masks(spec, 1)[0])
    done = model_engine.run(spec, layers, sample.inputs, sample.targets, lambda a: a)
    base = {name: np.array(value) for name, value in spec.parameters}
    assert done.loss == pytest.approx(_loss(data, base), rel=1e-12)
    h = 1e-6
    for name, value in base.items():
        for index in np.ndindex(*value.shape):
            up, down = dict(base), dict(base)
            up[name], down[name] = value.copy(), value.copy()
            up[name][index] += h
            down[name][index] -= h
            numeric = (_loss(data, up) - _loss(data, down)) / (2 * h)
            assert done.gradients[name][index] == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_verify_agrees_through_a_drawn_mask(runner, tmp_path):
    data = dict(HAND, model=[*HAND["model"]])
    data["model"][2] = {"dropout": {"p": 0.3, "seed": 7}}
    path = tmp_path / "drawn.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path), "--verify"])
    assert result.exit_code == 0, result.output
    assert "All 21 gradients agree" in result.output
    assert "/0.7" in result.output  # kept entries ×1/(1 − 0.3), written as the network does


def test_drawn_masks_keep_each_entry_with_chance_1_minus_p_and_repeat_per_seed():
    data = dict(HAND, model=[*HAND["model"]])
    data["model"][2] = {"dropout": {"p": 0.3, "seed": 7}}
    layer = models.from_dict(data).layers[2]
    # a layer of 4 entries drawn for 5,000 samples: 20,000 draws, keep 0.7 ± 3 standard errors
    masks = tensor_dropout.masks(layer, 2, 1, 5000)
    kept = float(np.mean(masks))
    assert abs(kept - 0.7) < 3 * np.sqrt(0.7 * 0.3 / 20000)
    again = tensor_dropout.masks(layer, 2, 1, 5000)
    assert all((a == b).all() for a, b in zip(masks, again))  # the same seed, the same masks
    other_epoch = tensor_dropout.masks(layer, 2, 2, 5000)
    assert any((a != b).any() for a, b in zip(masks, other_epoch))
    assert {float(v) for m in masks for v in m} == {0.0, 1.0}


def test_dropouts_forgotten_scale_is_named_and_a_right_answer_names_nothing():
    # y2[2] = m·y1[2]·2 = 1.1; the scale forgotten gives m·y1[2] = 0.55
    right = {"y2[0]": "0.9", "y2[2]": "1.1", "delta1[0]": "-0.102"}
    report = api.check_report(right | {"y2[2]": "0.55"}, HAND)
    verdicts = {v.symbol: v for v in report.answered}
    assert verdicts["y2[2]"].mistakes == (tensor_dropout.UNSCALED,)
    assert verdicts["y2[0]"].kind == "right" and not verdicts["y2[0]"].mistakes
    back = api.check_report({"delta1[0]": "-0.051"}, HAND).answered[0]  # m·δ2[0], ×2 forgotten
    assert back.mistakes == (tensor_dropout.UNSCALED,)
    assert all(v.kind == "right" for v in api.check_report(right, HAND).answered)
    other = api.check_report({"y2[2]": "1.3"}, HAND).answered[0]  # wrong, but not unscaled
    assert other.kind == "wrong" and tensor_dropout.UNSCALED not in other.mistakes


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        models.from_dict(data)
    return str(caught.value)


@pytest.mark.parametrize(
    ("dropout", "message"),
    [
        ({"p": 1}, "model[2].dropout.p: 1 is not in [0, 1): p is the chance to drop"),
        ({"mask": [1, 0, 2, 1]}, "model[2].dropout.mask[2]: 2 is not 0 or 1"),
        ({"rate": 0.5}, "model[2].dropout.rate: unknown argument of dropout; it takes name, p"),
        (
            {"mask": [1, 0, 1]},
            "model[2]: layer 2 (dropout) has a mask shaped [3]; it drops entries of its input, "
            "[4]; layer 1 (relu) gives 4 features",
        ),
    ],
)
def test_a_bad_dropout_says_what_is_valid(dropout, message):
    data = dict(HAND, model=[*HAND["model"]])
    data["model"][2] = {"dropout": dropout}
    assert message in _error(data)


def test_a_saved_model_keeps_its_dropout(runner, tmp_path):
    path = tmp_path / "hand.yaml"
    path.write_text(yaml.safe_dump(HAND, sort_keys=False), encoding="utf-8")
    saved = tmp_path / "saved.yaml"
    result = runner.invoke(cli, ["step", str(path), "--epochs", "1", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    layer = yaml.safe_load(saved.read_text(encoding="utf-8"))["model"][2]["dropout"]
    # p as given, or left out where it is torch's default (0.5), as every default is
    assert (layer.get("p", 0.5), layer["mask"]) == (0.5, [1, 0, 1, 1])
