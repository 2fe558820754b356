"""Metric definitions: the defaults catch the common prints, a preset's own win, the service's limits hold."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from configs import BadInput, Preset
from configs.metrics import DEFAULT_METRICS, MAX_METRIC_DEFINITIONS
from steps.train.metrics import Point, metric_definitions, metric_series

NANOGPT_LOG = [
    "iter 0: loss 4.1742, time 812.30ms",
    "step 0: train loss 4.1671, val loss 4.1699",
    "iter 5: loss 3.9021, time 80.12ms",
    "iter 10: loss 3.5110, time 79.90ms",
    "step 10: train loss 3.4012, val loss 3.4523",
    "done: finished iteration 10, best val loss 3.4523",
]


def test_the_defaults_read_nanogpt_prints_as_series() -> None:
    series = metric_series(NANOGPT_LOG, metric_definitions(Preset(command=["true"])))
    assert series["loss"] == [Point(0, 4.1742), Point(1, 3.9021), Point(2, 3.511)]
    assert series["train_loss"] == [Point(0, 4.1671), Point(1, 3.4012)]
    assert series["val_loss"] == [Point(0, 4.1699), Point(1, 3.4523), Point(2, 3.4523)]
    assert "accuracy" not in series  # never printed: no empty series


@pytest.mark.parametrize(
    ("line", "name", "value"),
    [
        ("Epoch 3/10 - loss: 0.3121 - accuracy: 0.9012 - val_loss: 0.2877", "val_loss", 0.2877),
        ("Epoch 3/10 - loss: 0.3121 - accuracy: 0.9012 - val_loss: 0.2877", "accuracy", 0.9012),
        ("Epoch 3/10 - loss: 0.3121 - accuracy: 0.9012 - val_loss: 0.2877", "loss", 0.3121),
        ("train_loss=1.5e-03 step=200", "train_loss", 0.0015),
        ("validation loss 2.25", "val_loss", 2.25),
    ],
)
def test_the_defaults_read_keras_and_lightning_prints(line: str, name: str, value: float) -> None:
    assert metric_series([line], DEFAULT_METRICS)[name] == [Point(0, value)]


def test_a_preset_metric_is_added_and_wins_over_a_default_of_its_name() -> None:
    preset = Preset(command=["true"], metrics={"loss": r"LOSS=([0-9.]+)", "bleu": r"BLEU ([0-9.]+)"})
    definitions = metric_definitions(preset)
    assert definitions["loss"] == r"LOSS=([0-9.]+)" and definitions["bleu"] == r"BLEU ([0-9.]+)"
    assert metric_series(["LOSS=0.5 BLEU 31.2"], definitions) == {
        "loss": [Point(0, 0.5)],
        "bleu": [Point(0, 31.2)],
    }


@pytest.mark.parametrize(
    ("metrics", "problem"),
    [
        ({"loss": "loss=[0-9.]+"}, "needs a group around the value"),
        ({"loss": "loss=(["}, "does not compile"),
        ({"x" * 256: "(1)"}, "must have 1 to 255 characters"),
        ({"loss": "(" + "a" * 500 + ")"}, "must have 1 to 500 characters"),
    ],
)
def test_a_metric_sagemaker_would_refuse_is_refused_in_the_preset(
    metrics: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        Preset(command=["true"], metrics=metrics)


def test_more_metrics_than_the_service_takes_is_bad_input() -> None:
    many = {f"m{i}": rf"m{i}=([0-9]+)" for i in range(MAX_METRIC_DEFINITIONS)}
    with pytest.raises(BadInput, match="SageMaker takes 40: drop some from `metrics`"):
        metric_definitions(Preset(command=["true"], metrics=many))
