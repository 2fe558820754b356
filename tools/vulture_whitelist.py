"""What vulture (`python -m vulture`, tests/test_dead_code.py) takes for dead code but something outside
our code uses, each with the reason.

Vulture reads this file with the packages (pyproject.toml, `[tool.vulture]`) and counts every name used
here as used everywhere: it matches names, not objects. Nothing imports this file. Pydantic validators
need no line: `ignore_decorators` covers them (pydantic calls them).
"""

_ = object()

# pydantic reads the model settings.
_.model_config
# The registry reads each example module's PRESETS by name (configs/registry.py).
_.PRESETS
# Members of SageMaker's state enums (steps/common/statuses.py): botocore's values, every one of them,
# whether or not our code names it (a state read from AWS is looked up by value).
_.STARTING
_.STOPPING
_.DELETING
# Preset fields nothing reads by attribute on the laptop: the training entry point reads them from the
# preset JSON inside the job.
_.resume_marker
_.argument_style
# A Versions field: the fingerprint hashes the whole tuple.
_.sdk
# PEP 562: Python calls a module's __getattr__ (`from pipelines import SageMakerRunner`).
_.__getattr__
# SageMakerRunner's job methods: the Python API users call (README), CVlization's seed runner's names.
_.list_jobs
_.get_job_status
_.tail_logs
_.stop_job
# The bash parser dispatches on the keyword: getattr(self, f"_{word}").
_._for
_._until
_._group
_._function
# The SDK calls these on the job client we hand it (local runs) or on the stand-in patch_sdk installs.
_.create_processing_job
_.describe_processing_job
_.create_training_job
_.create_transform_job
# LocalPipelineSession methods the SDK's local executor calls on our subclass; kms_key is in its signature.
_.read_s3_file
_.upload_string_as_file_body
_.default_bucket
_.kms_key
# A signal handler's second argument (signal.signal passes it).
_.frame
# zipfile.ZipInfo fields zipfile reads when it writes the entry.
_.create_system
_.external_attr
_.compress_type
_.file_size
# SDK module attributes patch_sdk replaces (the SDK looks them up when it runs).
_._send_telemetry_request
_.LocalSagemakerClient
# Read by tests/steps/test_build_context.py to prove each file is read once (FileDigests.reads), and the
# one-call packing benchmarks/context.py and the build tests use.
_.reads
_.pack_context
# What tests/steps/test_bundle.py reads to check the job-side code the bundle ships (Python 3.9, stdlib
# and boto3 only).
_.container_sources
# The one-call metric reading tests/steps/test_train_metrics.py checks the regexes with (runs feed a
# MetricCollector line by line instead).
_.metric_series
# The README's permissions table is this function's output; tests/steps/test_permissions.py compares them
# and names it as the command that regenerates the table.
_.markdown_table
