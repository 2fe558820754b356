"""SageMaker quotas in moto's Service Quotas backend, which only knows `vpc`.

`install()` teaches the in-process backend the `sagemaker` service: ListAWSDefaultServiceQuotas,
ListServiceQuotas (moto lacks the operation; dispatch finds it by name from X-Amz-Target
`ServiceQuotasV20190624.ListServiceQuotas`) and GetServiceQuota, paginated and shaped as the AWS API
documents `ServiceQuota`. Each region's table lives on its backend, so moto's reset restores the defaults;
tests change it with `set_sagemaker_quota` / `remove_sagemaker_quotas`.

Quota codes are stand-ins derived from the quota name (real SageMaker codes are per instance type and
mostly undocumented, which is why preflight looks quotas up by name).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from moto.servicequotas.exceptions import NoSuchResource
from moto.servicequotas.models import ServiceQuotasBackend, servicequotas_backends
from moto.servicequotas.responses import ServiceQuotasResponse

from tests.harness.moto_server import ACCOUNT

SERVICE_CODE = "sagemaker"
SERVICE_NAME = "Amazon SageMaker"
PAGE_LIMIT = 100  # AWS rejects MaxResults above 100

CPU_TYPES = ("ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge", "ml.c5.xlarge", "ml.c5.2xlarge")
GPU_TYPES = (
    "ml.g4dn.xlarge", "ml.g4dn.2xlarge", "ml.g4dn.12xlarge", "ml.g5.xlarge", "ml.g5.2xlarge", "ml.g5.4xlarge",
    "ml.g5.12xlarge", "ml.g5.48xlarge", "ml.g6.xlarge", "ml.g6.2xlarge", "ml.g6.4xlarge", "ml.g6.12xlarge",
    "ml.g6.48xlarge", "ml.g6e.xlarge", "ml.g6e.2xlarge", "ml.g6e.12xlarge", "ml.g6e.48xlarge", "ml.p3.2xlarge",
    "ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.4xlarge", "ml.p5.48xlarge",
)  # fmt: skip
# (usage kind in the quota name, usage-metric resource); the non-training kinds make the name search real.
USAGES = (
    ("training job usage", "training-job"),
    ("spot training job usage", "spot-training-job"),
    ("training warm pool usage", "training-warm-pool"),
    ("processing job usage", "processing-job"),
    ("endpoint usage", "endpoint"),
    ("transform job usage", "transform-job"),
    ("notebook instance usage", "notebook-instance"),
    ("cluster usage", "cluster"),
)
# New accounts get a few CPU training instances and no GPUs, on demand or spot.
CPU_DEFAULT, GPU_DEFAULT = 4, 0
OTHER_QUOTAS = {"Number of training jobs": 10000, "Longest run time for a training job": 2419200}


def quota_code(name: str) -> str:
    """The stand-in quota code for a quota name (stable across runs)."""
    return "L-" + hashlib.sha256(name.encode()).hexdigest()[:8].upper()


def quota_record(
    name: str, value: float, region: str, applied: bool, adjustable: bool = True
) -> dict[str, Any]:
    """A `ServiceQuota` as AWS returns it; applied values carry the account in their ARN."""
    code = quota_code(name)
    record: dict[str, Any] = {
        "ServiceCode": SERVICE_CODE,
        "ServiceName": SERVICE_NAME,
        "QuotaArn": f"arn:aws:servicequotas:{region}:{ACCOUNT if applied else ''}:{SERVICE_CODE}/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": float(value),
        "Unit": "None",
        "Adjustable": adjustable,
        "GlobalQuota": False,
        "QuotaAppliedAtLevel": "ACCOUNT",
    }
    for kind, resource in USAGES:
        instance_type = name.removesuffix(f" for {kind}")
        if instance_type != name and instance_type.startswith("ml."):
            record["UsageMetric"] = {
                "MetricNamespace": "AWS/Usage",
                "MetricName": "ResourceCount",
                "MetricDimensions": {
                    "Class": "None",
                    "Resource": f"{resource}/{instance_type}",
                    "Service": "SageMaker",
                    "Type": "Resource",
                },
                "MetricStatisticRecommendation": "Maximum",
            }
            break
    return record


def _default_table(region: str) -> dict[str, dict[str, Any]]:
    table = {}
    for instance_type in CPU_TYPES + GPU_TYPES:
        value = CPU_DEFAULT if instance_type in CPU_TYPES else GPU_DEFAULT
        for kind, _ in USAGES:
            name = f"{instance_type} for {kind}"
            table[name] = quota_record(name, value, region, applied=False)
    for name, value in OTHER_QUOTAS.items():
        table[name] = quota_record(name, value, region, applied=False, adjustable=False)
    # Sorted by name, so the types late in the alphabet (ml.p5...) are past the first page of 100.
    return dict(sorted(table.items()))


def _tables(backend: ServiceQuotasBackend) -> dict[str, dict[str, dict[str, Any]]]:
    # Kept on the backend instance: moto's reset re-creates backends, which brings the defaults back.
    tables = backend.__dict__.get("_cvl_sagemaker")
    if tables is None:
        tables = {"default": _default_table(backend.region_name), "applied": {}}
        backend.__dict__["_cvl_sagemaker"] = tables
    return tables


def _backend(region: str) -> ServiceQuotasBackend:
    return servicequotas_backends[ACCOUNT][region]


def set_sagemaker_quota(
    name: str, value: float, *, applied: bool = True, region: str = "us-east-1", adjustable: bool = True
) -> str:
    """Set a SageMaker quota by name; returns its code.

    `applied=True` sets the account's applied value (ListServiceQuotas/GetServiceQuota); `False` sets the
    AWS default (ListAWSDefaultServiceQuotas) and drops any applied value. A new name gets a default of 0.
    """
    tables = _tables(_backend(region))
    if applied:
        tables["default"].setdefault(
            name, quota_record(name, 0, region, applied=False, adjustable=adjustable)
        )
        tables["applied"][name] = quota_record(name, value, region, applied=True, adjustable=adjustable)
    else:
        tables["default"][name] = quota_record(name, value, region, applied=False, adjustable=adjustable)
        tables["applied"].pop(name, None)
    return quota_code(name)


def remove_sagemaker_quotas(instance_type: str, region: str = "us-east-1") -> None:
    """Drop every quota of `instance_type` in `region`, as where SageMaker does not offer the type."""
    tables = _tables(_backend(region))
    for table in tables.values():
        for name in [n for n in table if n.startswith(f"{instance_type} for ")]:
            del table[name]


def _page(items: list[dict[str, Any]], body: dict[str, Any]) -> str:
    start = int(body.get("NextToken") or 0)
    size = min(int(body.get("MaxResults") or PAGE_LIMIT), PAGE_LIMIT)
    page: dict[str, Any] = {"Quotas": items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return json.dumps(page)


_original_list_defaults = ServiceQuotasResponse.list_aws_default_service_quotas
_original_get = ServiceQuotasBackend.get_service_quota


def _list_aws_default_service_quotas(self: ServiceQuotasResponse) -> str:
    body = json.loads(self.body)
    if body.get("ServiceCode") != SERVICE_CODE:
        return _original_list_defaults(self)
    return _page(list(_tables(self.backend)["default"].values()), body)


def _list_service_quotas(self: ServiceQuotasResponse) -> str:
    body = json.loads(self.body)
    if body.get("ServiceCode") != SERVICE_CODE:
        raise NoSuchResource
    applied = list(_tables(self.backend)["applied"].values())
    if body.get("QuotaCode"):
        applied = [q for q in applied if q["QuotaCode"] == body["QuotaCode"]]
    return _page(applied, body)


def _get_service_quota(self: ServiceQuotasBackend, service_code: str, quota_code: str) -> dict[str, Any]:
    if service_code != SERVICE_CODE:
        return _original_get(self, service_code, quota_code)
    tables = _tables(self)
    for table in (tables["applied"], tables["default"]):
        for quota in table.values():
            if quota["QuotaCode"] == quota_code:
                return quota
    raise NoSuchResource


def install() -> None:
    """Teach the in-process moto server SageMaker quotas (idempotent)."""
    ServiceQuotasResponse.list_aws_default_service_quotas = _list_aws_default_service_quotas  # type: ignore[method-assign]
    ServiceQuotasResponse.list_service_quotas = _list_service_quotas  # type: ignore[attr-defined]
    ServiceQuotasBackend.get_service_quota = _get_service_quota  # type: ignore[method-assign]
