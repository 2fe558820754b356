"""Loaded at start-up by a subprocess that has this folder on PYTHONPATH: logs its AWS calls.

Each botocore call is appended to `$CVL_CALL_LOG` as a JSON line (service, operation, params, region),
so a test can check what a container run as `python3 -m steps.<x>.container` asked of AWS.
"""

import json
import os

import botocore.session

_LOG = os.environ.get("CVL_CALL_LOG")
_original = botocore.session.Session.create_client


def _create_client(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    client = _original(self, *args, **kwargs)

    def record(params, model, **_):  # noqa: ANN001, ANN003, ANN202
        line = {
            "service": model.service_model.signing_name,
            "operation": model.name,
            "params": params,
            "region": client.meta.region_name,
        }
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps(line, default=str) + "\n")

    client.meta.events.register("before-parameter-build", record)
    return client


if _LOG:
    botocore.session.Session.create_client = _create_client
