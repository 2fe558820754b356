"""Limits and intervals more than one module writes against, each declared once.

Stdlib only, Python 3.9: the processing jobs import it. `tests/steps/test_limits.py` checks the
service's limits against botocore's `sagemaker` model, and the training entry point's own copy (it runs
in the example's image, without this package) against this one.
"""

# SageMaker keeps the first 1024 characters of a job's FailureReason (`FailureReason` in the model),
# read from /opt/ml/output/message (processing) or /opt/ml/output/failure (training).
FAILURE_REASON_LIMIT = 1024
# CreateTrainingJob refuses a hyperparameter value longer than this (`HyperParameterValue`).
HYPERPARAMETER_LIMIT = 2500
# How often we ask AWS whether something in progress (an execution, a build) moved on: often enough to
# print a step's end within seconds, rarely enough to stay far below the APIs' request rates.
POLL_SECONDS = 10.0
# `CVL_POLL_SECONDS` overrides it where a person watches (run, SageMakerRunner.tail_logs).
POLL_SECONDS_ENV = "CVL_POLL_SECONDS"
