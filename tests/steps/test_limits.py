"""Each shared limit is declared once, equals the service's own, and every copy equals the declaration."""

from __future__ import annotations

import botocore.session

from steps.common import limits
from steps.train.job import outputs

MODEL = botocore.session.get_session().get_service_model("sagemaker")


def test_the_failure_reason_limit_is_sagemakers() -> None:
    assert limits.FAILURE_REASON_LIMIT == MODEL.shape_for("FailureReason").metadata["max"]


def test_the_hyperparameter_limit_is_sagemakers() -> None:
    assert limits.HYPERPARAMETER_LIMIT == MODEL.shape_for("HyperParameterValue").metadata["max"]


def test_the_training_entry_points_own_copy_is_the_declared_limit() -> None:
    """The entry point runs in the example's image, shipped as its own folder without `steps.common`,
    so it carries a copy."""
    assert outputs.FAILURE_LIMIT == limits.FAILURE_REASON_LIMIT
