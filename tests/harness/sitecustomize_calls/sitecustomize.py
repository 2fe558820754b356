"""Loaded at start-up by a subprocess that has this folder on PYTHONPATH: logs its AWS calls, and lets IAM
decide them.

Each botocore call is appended to `$CVL_CALL_LOG` as a JSON line (service, operation, params, region),
so a test can check what a container run as `python3 -m steps.<x>.container` asked of AWS. With
`$CVL_ENFORCE` (a JSON file: the role's ARN, its policy documents, the account's secret tags) each call is
decided as IAM would decide it for that role, and a refused one answers AccessDenied (moto enforces
nothing): the job meets the same refusals it would meet in AWS.
"""

import json
import os
import sys

import botocore.session

_LOG = os.environ.get("CVL_CALL_LOG")
_ENFORCE = os.environ.get("CVL_ENFORCE")
_original = botocore.session.Session.create_client
_rules = None
if _ENFORCE:
    with open(_ENFORCE, encoding="utf-8") as _file:
        _rules = json.load(_file)
    # After the bundle (the job's own `steps` stays the bundle's), before site-packages (which may hold
    # another package named `tests`).
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(sys.path.index(_here) if _here in sys.path else len(sys.path), _rules["root"])
    from tests.harness import call_log as _call_log


def _create_client(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    client = _original(self, *args, **kwargs)

    def record(params, model, context, **_):  # noqa: ANN001, ANN003, ANN202
        line = {
            "service": model.service_model.signing_name,
            "operation": model.name,
            "params": params,
            "region": client.meta.region_name,
        }
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps(line, default=str) + "\n")
        if _rules is not None:
            call = _call_log.Call(
                "execution", line["service"], line["operation"], dict(params), line["region"]
            )
            context["cvl_refused"] = _call_log.refusal(
                call, _rules["role_arn"], _rules["documents"], _rules["tags"]
            )

    client.meta.events.register("before-parameter-build", record)
    if _rules is not None:
        client.meta.events.register("before-call", _call_log.refuse)
    return client


if _LOG or _ENFORCE:
    botocore.session.Session.create_client = _create_client
