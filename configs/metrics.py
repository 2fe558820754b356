"""Training metrics as SageMaker reads them from the job's log: a name and a regex whose first group is
the value. The service's limits (CreateTrainingJob's `MetricDefinitions`) are declared here, once.
"""

from __future__ import annotations

import re

MAX_METRIC_DEFINITIONS = 40
MAX_METRIC_NAME_LENGTH = 255
MAX_METRIC_REGEX_LENGTH = 500
NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"

# What the common training scripts print: nanoGPT's `iter N: loss X` and `step N: train loss X, val loss
# Y`, Keras and Lightning's `loss=`/`val_loss:` and `accuracy`. A preset's own regex of the same name wins.
DEFAULT_METRICS: dict[str, str] = {
    "loss": rf"(?:iter \d+: loss |\bloss[=:] ?){NUMBER}",
    "train_loss": rf"\btrain[ _]loss[=:]? ?{NUMBER}",
    "val_loss": rf"\bval(?:idation)?[ _]loss[=:]? ?{NUMBER}",
    "accuracy": rf"\b(?:val_)?acc(?:uracy)?[=:] ?{NUMBER}",
}


def check_metric(name: str, regex: str) -> None:
    """ValueError naming what is wrong when `name`/`regex` is not a metric definition SageMaker takes."""
    if not 1 <= len(name) <= MAX_METRIC_NAME_LENGTH:
        raise ValueError(f"metric name {name[:40]!r} must have 1 to {MAX_METRIC_NAME_LENGTH} characters")
    if not 1 <= len(regex) <= MAX_METRIC_REGEX_LENGTH:
        raise ValueError(f"metric {name}: the regex must have 1 to {MAX_METRIC_REGEX_LENGTH} characters")
    try:
        groups = re.compile(regex).groups
    except re.error as error:
        raise ValueError(f"metric {name}: the regex does not compile ({error})") from None
    if groups < 1:
        raise ValueError(f"metric {name}: the regex needs a group around the value, e.g. 'loss=([0-9.]+)'")
