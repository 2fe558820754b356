"""Preflight answers shared by the pipelines of one `upsert --all`: the same call reaches AWS once."""

import pytest
from botocore.exceptions import ClientError

from pipelines.deploy.preflight_answers import remembered_clients
from steps.common.aws import aws_session
from tests.conftest import BUCKET, REGION, ROLE_ARN
from tests.harness import preflight_world, quotas


@pytest.fixture
def counted(aws):
    preflight_world.ready_account(ROLE_ARN, BUCKET, REGION)
    quotas.set_sagemaker_quota("ml.g5.xlarge for training job usage", 2)
    clients = remembered_clients(aws_session(REGION))
    sent: list[str] = []
    for remembered in clients.values():
        remembered.client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    return clients, sent


def test_the_same_call_is_sent_once_and_another_each_time(counted):
    clients, sent = counted
    iam = clients["iam"]

    first = iam.get_role(RoleName="cvl-sagemaker-execution")
    again = iam.get_role(RoleName="cvl-sagemaker-execution")
    assert again == first
    assert len(sent) == 1

    for _ in range(2):
        with pytest.raises(ClientError):  # a refusal is an answer too: asked once
            iam.get_role(RoleName="no-such-role")
    assert len(sent) == 2


@pytest.mark.slow
def test_paginated_listings_are_fetched_once_per_arguments(counted):
    clients, sent = counted
    quotas_client = clients["service-quotas"]

    pages = list(quotas_client.get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker"))
    assert any(q["QuotaName"] == "ml.g5.xlarge for training job usage" for p in pages for q in p["Quotas"])
    count = len(sent)
    assert list(quotas_client.get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker")) == pages
    assert len(sent) == count
