"""`upsert --notify`: an EventBridge rule on a pipeline's execution status changes, to an SNS topic.

One rule and (for `email:`) one topic per pipeline, both tagged like everything else. The topic's policy
lets EventBridge publish only for that rule (`aws:SourceArn`); a topic given with `sns:<ARN>` keeps its
own statements and gains ours. Idempotent: what is right is left alone and reported `unchanged`; `off`
removes the rule, the topic we made, and our statement from a topic we did not make.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from configs import BadInput
from pipelines.deploy.pipeline_api import error_code
from steps.common.aws import client
from steps.common.statuses import ExecutionStatus
from steps.common.tags import resource_tags, tag_list

EVENT_SOURCE = "aws.sagemaker"
EVENT_TYPE = "SageMaker Model Building Pipeline Execution Status Change"
STATEMENT_ID = "cvl-pipelines-events-publish"
TARGET_ID = "cvl-notify"
_RULE_NAME_LIMIT = 64  # PutRule's Name
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256})$")


class NotifySpec(NamedTuple):
    """Where a pipeline's status changes go: `email` (a topic of ours), `sns` (a topic given), or `off`."""

    kind: str
    target: str = ""
    succeeded: bool = False

    @property
    def statuses(self) -> list[str]:
        """The execution statuses that notify (Succeeded only when asked)."""
        ended = [ExecutionStatus.FAILED, ExecutionStatus.STOPPED] + (
            [ExecutionStatus.SUCCEEDED] if self.succeeded else []
        )
        return [status.value for status in ended]


def parse_notify(text: str, region: str, succeeded: bool = False) -> NotifySpec:
    """`email:<address>`, `sns:<topic ARN>` or `off` as a `NotifySpec`; `BadInput` says what is wrong."""
    kind, _, target = text.partition(":")
    if text == "off":
        return NotifySpec("off")
    if kind == "email" and _EMAIL.match(target):
        return NotifySpec("email", target, succeeded)
    found = _TOPIC_ARN.match(target) if kind == "sns" else None
    if found and found.group(1) != region:
        raise BadInput(
            f"--notify: the topic is in {found.group(1)}, the pipeline in {region}: use a topic in {region}"
        )
    if found:
        return NotifySpec("sns", target, succeeded)
    raise BadInput(f"--notify {text!r}: use email:<address>, sns:<topic ARN> or off")


def resource_name(pipeline: str, limit: int = _RULE_NAME_LIMIT) -> str:
    """`cvl-notify-<pipeline>`, within `limit` characters (a hash keeps cut names apart)."""
    name = f"cvl-notify-{pipeline}"
    if len(name) <= limit:
        return name
    return name[: limit - 9] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def event_pattern(pipeline_arn: str, statuses: list[str]) -> dict[str, Any]:
    """The rule's pattern: this pipeline's executions entering one of `statuses`."""
    return {
        "source": [EVENT_SOURCE],
        "detail-type": [EVENT_TYPE],
        "detail": {"pipelineArn": [pipeline_arn], "currentPipelineExecutionStatus": statuses},
    }


def topic_policy(existing: dict[str, Any] | None, topic_arn: str, rule_arn: str | None) -> dict[str, Any]:
    """The topic's policy with our statement for `rule_arn` (none when None), others' statements kept."""
    policy = existing or {"Version": "2012-10-17", "Statement": []}
    statements = [s for s in policy.get("Statement", []) if s.get("Sid") != STATEMENT_ID]
    if rule_arn is not None:
        statements.append(
            {
                "Sid": STATEMENT_ID,
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        )
    return {**policy, "Statement": statements}


def _input_transformer(pipeline: str) -> dict[str, Any]:
    return {
        "InputPathsMap": {
            "status": "$.detail.currentPipelineExecutionStatus",
            "execution": "$.detail.pipelineExecutionArn",
        },
        "InputTemplate": f'"{pipeline}: execution <execution> is <status>. '
        f'Why: python -m pipelines.diagnose <execution>"',
    }


class Notifier:
    """The EventBridge and SNS calls of one `upsert --notify`, on the caller's session."""

    def __init__(self, session: Any) -> None:
        self.events = client(session, "events")
        self.sns = client(session, "sns")

    def _rule(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self.events.describe_rule(Name=name))
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise

    def _our_topic(self, pipeline_arn: str, pipeline: str, tags: dict[str, str]) -> tuple[str, bool]:
        """Our topic's ARN, and whether it was created now."""
        name = resource_name(pipeline, 256)
        partition, _, region, account = pipeline_arn.split(":")[1:5]
        arn = f"arn:{partition}:sns:{region}:{account}:{name}"
        try:
            self.sns.get_topic_attributes(TopicArn=arn)
            return arn, False
        except ClientError as error:
            if error_code(error) != "NotFound":
                raise
        return str(self.sns.create_topic(Name=name, Tags=tag_list(tags))["TopicArn"]), True

    def _policy(self, topic_arn: str, rule_arn: str | None) -> bool:
        attributes = self.sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        existing = json.loads(attributes["Policy"]) if attributes.get("Policy") else None
        wanted = topic_policy(existing, topic_arn, rule_arn)
        if wanted == existing:
            return False
        self.sns.set_topic_attributes(
            TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(wanted)
        )
        return True

    def ensure(self, pipeline: str, pipeline_arn: str, spec: NotifySpec, example: str, preset: str) -> str:
        """Put the rule, topic, policy, target and subscription right; say what was done."""
        if spec.kind == "off":
            return self.remove(pipeline)
        tags = resource_tags(example, preset)
        topic_arn, created = (
            (spec.target, False) if spec.kind == "sns" else self._our_topic(pipeline_arn, pipeline, tags)
        )
        name = resource_name(pipeline)
        pattern = json.dumps(event_pattern(pipeline_arn, spec.statuses), sort_keys=True)
        rule = self._rule(name)
        changed = rule is None or json.loads(rule.get("EventPattern", "{}")) != json.loads(pattern)
        if changed:
            answer = self.events.put_rule(
                Name=name,
                EventPattern=pattern,
                State="ENABLED",
                Description=f"cvl-pipelines: {pipeline} executions that end {', '.join(spec.statuses)}",
                **({} if rule else {"Tags": tag_list(tags)}),
            )
            rule_arn = str(answer["RuleArn"])
        else:
            rule_arn = str(rule["Arn"]) if rule else ""
        changed |= self._policy(topic_arn, rule_arn)
        target = {"Id": TARGET_ID, "Arn": topic_arn, "InputTransformer": _input_transformer(pipeline)}
        targets = self.events.list_targets_by_rule(Rule=name).get("Targets", [])
        if targets != [target]:
            stale = [t["Id"] for t in targets if t["Id"] != TARGET_ID]
            if stale:
                self.events.remove_targets(Rule=name, Ids=stale)
            self.events.put_targets(Rule=name, Targets=[target])
            changed = True
        pending = ""
        if spec.kind == "email":
            subscribed = [
                s
                for page in self.sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
                for s in page.get("Subscriptions", [])
                if s.get("Protocol") == "email" and s.get("Endpoint") == spec.target
            ]
            if not subscribed:
                self.sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=spec.target)
                changed, pending = True, f"; {spec.target} must confirm the email AWS sends"
        action = "created" if rule is None or created else "updated" if changed else "unchanged"
        return f"notify {action}: {', '.join(spec.statuses)} -> {topic_arn}{pending}"

    def remove(self, pipeline: str) -> str:
        """Remove the rule, our topic, and our statement from a topic we did not make."""
        name = resource_name(pipeline)
        rule = self._rule(name)
        if rule is None:
            return "notify unchanged: none was set"
        topics = [t["Arn"] for t in self.events.list_targets_by_rule(Rule=name).get("Targets", [])]
        self.events.remove_targets(Rule=name, Ids=[TARGET_ID])
        self.events.delete_rule(Name=name)
        ours = resource_name(pipeline, 256)
        for topic_arn in topics:
            if topic_arn.rsplit(":", 1)[-1] == ours:
                self.sns.delete_topic(TopicArn=topic_arn)
            else:
                self._policy(topic_arn, None)
        return "notify removed"
