import pytest

from configs import BadInput, resolve_target
from configs.settings import PLACEHOLDER_BUCKET, PLACEHOLDER_ROLE_ARN

ROLE = "arn:aws:iam::111122223333:role/sm-exec"
ENV = {"AWS_DEFAULT_REGION": "eu-west-1", "SAGEMAKER_ROLE_ARN": ROLE, "SAGEMAKER_OUTPUT_BUCKET": "my-bucket"}


def test_environment_supplies_every_setting():
    target = resolve_target(environ=ENV)
    assert (target.region, target.role_arn, target.bucket, target.account) == (
        "eu-west-1",
        ROLE,
        "my-bucket",
        "111122223333",
    )
    assert target.placeholders == ()


def test_flags_win_over_environment():
    other = "arn:aws:iam::444455556666:role/x"
    target = resolve_target(region="us-west-2", role_arn=other, bucket="s3://other-bucket/", environ=ENV)
    assert (target.region, target.account, target.bucket) == ("us-west-2", "444455556666", "other-bucket")


@pytest.mark.parametrize(
    ("missing", "hint"),
    [
        ("AWS_DEFAULT_REGION", "--region"),
        ("SAGEMAKER_ROLE_ARN", "--role-arn"),
        ("SAGEMAKER_OUTPUT_BUCKET", "--bucket"),
    ],
)
def test_missing_setting_is_bad_input_naming_the_flag_and_variable(missing, hint):
    environ = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(BadInput, match=hint) as caught:
        resolve_target(environ=environ)
    assert missing in str(caught.value)


def test_dry_run_marks_placeholders():
    target = resolve_target(allow_placeholders=True, environ={})
    assert target.role_arn == PLACEHOLDER_ROLE_ARN and target.bucket == PLACEHOLDER_BUCKET
    assert set(target.placeholders) == {"region", "role", "bucket", "account"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("region", "us_east_1", "not an AWS region"),
        ("role_arn", "arn:aws:iam::123:role/x", "is not an IAM role: use its name"),
        ("role_arn", "arn:aws:iam::111122223333:user/x", "is not an IAM role: use its name"),
        ("role_arn", "my role", "is not an IAM role: use its name"),
        ("bucket", "My_Bucket", "not a valid S3 bucket name"),
        ("bucket", "ab", "not a valid S3 bucket name"),
    ],
)
def test_malformed_values_are_bad_input_even_in_dry_runs(field, value, message):
    with pytest.raises(BadInput, match=message):
        resolve_target(**{field: value}, allow_placeholders=True, environ={})


def test_a_role_is_taken_by_name_by_arn_with_its_path_or_as_an_assumed_role_arn():
    def role(given, **kwargs):
        return resolve_target(region="us-east-1", role_arn=given, bucket="b-1", environ={}, **kwargs)

    studio = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-1"
    assert role(studio).role_arn == studio
    assumed = role("arn:aws:sts::123456789012:assumed-role/AmazonSageMaker-ExecutionRole-1/SageMaker")
    # Offline the path is unknown: pipelines.deploy.target asks IAM for the real ARN.
    assert assumed.role_arn == "arn:aws:iam::123456789012:role/AmazonSageMaker-ExecutionRole-1"
    assert assumed.account == "123456789012"
    named = role("ml-training", account="123456789012")
    assert named.role_arn == "arn:aws:iam::123456789012:role/ml-training" and named.placeholders == ()
    assert "account" in role("ml-training").placeholders
