"""How often an execution is looked at: one default, `CVL_POLL_SECONDS` over it, bad values refused."""

from __future__ import annotations

import pytest

from configs import BadInput
from pipelines.operate.follow import poll_seconds
from steps.common.limits import POLL_SECONDS


def test_the_default_is_the_declared_interval() -> None:
    assert poll_seconds({}) == POLL_SECONDS == 10.0
    assert poll_seconds({"CVL_POLL_SECONDS": ""}) == POLL_SECONDS


@pytest.mark.parametrize(("given", "seconds"), [("0", 0.0), ("0.2", 0.2), ("30", 30.0)])
def test_the_variable_sets_it(given: str, seconds: float) -> None:
    assert poll_seconds({"CVL_POLL_SECONDS": given}) == seconds


@pytest.mark.parametrize("given", ["fast", "-1", "nan"])
def test_a_value_that_is_no_interval_is_bad_input(given: str) -> None:
    with pytest.raises(BadInput, match=rf"CVL_POLL_SECONDS='{given}' is not a number of seconds"):
        poll_seconds({"CVL_POLL_SECONDS": given})
