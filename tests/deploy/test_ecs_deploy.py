"""scripts/ecs-deploy.sh against a fake AWS CLI: migrations first, then the stack update,
then a check of what the services run; each failure stops it with a ::error:: line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.helpers import ROOT

FAKE_CLI = Path(__file__).with_name("fakes") / "aws_cli.py"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
IMAGE = f"docker.io/stockdesk/stockdesk:{COMMIT}"
OLD_IMAGE = "docker.io/stockdesk/stockdesk:fedcba9876543210fedcba9876543210fedcba98"
TASK_ID = "4f1c2b7e9d0a4e6f8b3c5d7e9f1a2b3c"
MIGRATE = "python manage.py migrate --noinput && python manage.py setup_schedules"
LOG_GROUP = "/ecs/stockdesk"
NETWORK = {
    "awsvpcConfiguration": {
        "subnets": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
        "securityGroups": ["sg-0123456789abcdef0"],
        "assignPublicIp": "DISABLED",
    }
}
READ_ONLY = {
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
}


def arn(family: str, revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"


WEB_BEFORE, WEB_AFTER = arn("stockdesk-web", 41), arn("stockdesk-web", 42)
WORKER_BEFORE, WORKER_AFTER = arn("stockdesk-worker", 17), arn("stockdesk-worker", 18)


def described_task_definition(kind: str, revision: int, image: str) -> dict[str, Any]:
    """DescribeTaskDefinition's `taskDefinition`, read-only fields included."""
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:stockdesk"
    container: dict[str, Any] = {
        "name": kind,
        "image": image,
        "essential": True,
        "environment": [
            {"name": "DEBUG", "value": "false"},
            {"name": "ALLOWED_HOSTS", "value": "stockdesk.example.com"},
        ],
        "secrets": [
            {"name": "SECRET_KEY", "valueFrom": f"{secret}/secret-key-AbCdEf"},
            {"name": "DATABASE_URL", "valueFrom": f"{secret}/database-url-AbCdEf"},
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": LOG_GROUP,
                "awslogs-region": REGION,
                "awslogs-stream-prefix": kind,
            },
        },
    }
    if kind == "web":
        container["portMappings"] = [
            {"name": "http", "containerPort": 8000, "hostPort": 8000, "protocol": "tcp"}
        ]
        container["healthCheck"] = {
            "command": ["CMD", "python", "/app/docker/healthcheck.py", "web"],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 60,
        }
    else:
        container["command"] = ["python", "manage.py", "qcluster"]
    return {
        "taskDefinitionArn": arn(f"stockdesk-{kind}", revision),
        "family": f"stockdesk-{kind}",
        "revision": revision,
        "status": "ACTIVE",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/stockdesk-task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/stockdesk-execution",
        "networkMode": "awsvpc",
        "containerDefinitions": [container],
        "volumes": [],
        "placementConstraints": [],
        "requiresAttributes": [
            {"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"},
            {"name": "ecs.capability.secrets.asm.environment-variables"},
        ],
        "compatibilities": ["EC2", "FARGATE"],
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "1024",
        "memory": "2048",
        "registeredAt": "2025-05-20T10:00:00.000000+00:00",
        "registeredBy": f"arn:aws:sts::{ACCOUNT}:assumed-role/stockdesk-deploy/GitHubActions",
    }


def stack_event(logical_id: str, kind: str, status: str, reason: str = "") -> dict:
    return {
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/stockdesk/1",
        "EventId": f"{logical_id}-{status}",
        "StackName": "stockdesk",
        "LogicalResourceId": logical_id,
        "ResourceType": kind,
        "Timestamp": "2025-06-02T09:10:00.000000+00:00",
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


STACK = "AWS::CloudFormation::Stack"
CIRCUIT_BREAKER = (
    "Resource handler returned message: \"Error occurred during operation 'ECS "
    "Deployment Circuit Breaker was triggered'.\" (HandlerErrorCode: GeneralServiceException)"
)
# Newest first, as DescribeStackEvents answers: this update, then last week's.
FAILED_UPDATE_EVENTS = [
    stack_event("stockdesk", STACK, "UPDATE_ROLLBACK_COMPLETE"),
    stack_event("WebService", "AWS::ECS::Service", "UPDATE_COMPLETE"),
    stack_event(
        "stockdesk",
        STACK,
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to update: [WebService].",
    ),
    stack_event("WebService", "AWS::ECS::Service", "UPDATE_FAILED", CIRCUIT_BREAKER),
    stack_event("WebTaskDefinition", "AWS::ECS::TaskDefinition", "UPDATE_COMPLETE"),
    stack_event("stockdesk", STACK, "UPDATE_IN_PROGRESS", "User Initiated"),
    stack_event("stockdesk", STACK, "UPDATE_ROLLBACK_COMPLETE"),
    stack_event(
        "WorkerService", "AWS::ECS::Service", "UPDATE_FAILED", "last week's failure"
    ),
    stack_event("stockdesk", STACK, "UPDATE_IN_PROGRESS", "User Initiated"),
]


class Deployment:
    """The script copied into a scratch checkout, run with the fake `aws` first on PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        checkout = tmp_path / "checkout"
        (checkout / "scripts").mkdir(parents=True)
        (checkout / "deploy").mkdir()
        # The real template is not needed: the fake only checks the path exists.
        (checkout / "deploy/stack.yaml").write_text(
            "AWSTemplateFormatVersion: 2010-09-09\n"
        )
        self.script = checkout / "scripts/ecs-deploy.sh"
        shutil.copy2(ROOT / "scripts/ecs-deploy.sh", self.script)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        aws = self.bin / "aws"
        aws.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLI}" "$@"\n')
        aws.chmod(0o755)
        (self.bin / "python3").symlink_to(sys.executable)
        self.log = tmp_path / "aws-calls.jsonl"
        self.temp = tmp_path / "temp"
        self.temp.mkdir()
        self.scenario: dict[str, Any] = {
            "region": REGION,
            "account": ACCOUNT,
            "stack_name": "stockdesk",
            "outputs": {
                "ClusterName": "stockdesk",
                "WebServiceName": "stockdesk-web",
                "WorkerServiceName": "stockdesk-worker",
                "WebTaskFamily": "stockdesk-web",
                "WorkerTaskFamily": "stockdesk-worker",
                "LogGroupName": LOG_GROUP,
            },
            "services": {
                "stockdesk-web": {"before": WEB_BEFORE, "after": WEB_AFTER},
                "stockdesk-worker": {"before": WORKER_BEFORE, "after": WORKER_AFTER},
            },
            "network": NETWORK,
            "task_definitions": {
                WEB_BEFORE: described_task_definition("web", 41, OLD_IMAGE),
                WEB_AFTER: described_task_definition("web", 42, IMAGE),
                WORKER_BEFORE: described_task_definition("worker", 17, OLD_IMAGE),
                WORKER_AFTER: described_task_definition("worker", 18, IMAGE),
            },
            "migrate_revision": 7,
            "task_id": TASK_ID,
            "migration": {"exit_code": 0},
            "deploy": {"succeeds": True, "events": []},
        }

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        scenario_file = self.tmp_path / "scenario.json"
        scenario_file.write_text(json.dumps(self.scenario))
        # No variable of this machine: no AWS credentials or profile reach the child.
        variables = {
            "PATH": f"{self.bin}{os.pathsep}{os.defpath}",
            "HOME": str(self.tmp_path),
            "TMPDIR": str(self.temp),
            "AWS_REGION": REGION,
            "GITHUB_SHA": COMMIT,
            "FAKE_AWS_SCENARIO": str(scenario_file),
            "FAKE_AWS_LOG": str(self.log),
            **env,
        }
        return subprocess.run(
            [str(self.script), *args],
            cwd=self.tmp_path,
            env=variables,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def commands(self) -> list[str]:
        return [call["command"] for call in self.calls()]

    def call(self, command: str) -> dict[str, Any]:
        """The first call of a command."""
        return next(call for call in self.calls() if call["command"] == command)


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path)


def errors(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("::error::")]


# --- (a) a deploy that works ---------------------------------------------------------


def test_a_deploy_migrates_once_then_updates_the_stack_and_names_the_new_revisions(
    deployment,
):
    result = deployment.run(IMAGE)

    assert result.returncode == 0, result.stdout + result.stderr
    assert errors(result) == []
    assert deployment.commands() == [
        "cloudformation describe-stacks",
        "ecs describe-services",
        "ecs describe-task-definition",
        "ecs register-task-definition",
        "ecs run-task",
        "ecs wait tasks-stopped",
        "ecs describe-tasks",
        "cloudformation deploy",
        "ecs describe-services",
        "ecs describe-task-definition",
        "ecs describe-task-definition",
    ]
    assert {call["region"] for call in deployment.calls()} == {REGION}
    deploy = deployment.call("cloudformation deploy")["options"]
    assert deploy == {
        "--template-file": ["deploy/stack.yaml"],
        "--stack-name": ["stockdesk"],
        "--parameter-overrides": [f"ImageUri={IMAGE}"],
        "--capabilities": ["CAPABILITY_NAMED_IAM"],
        "--no-fail-on-empty-changeset": [],
    }
    # The rollback targets are named before anything changes; the new revisions at the end.
    out = result.stdout
    assert out.index(WEB_BEFORE) < out.index("Migration task")
    assert out.index(WORKER_BEFORE) < out.index("Migration task")
    assert "web now runs stockdesk-web:42" in out
    assert "worker now runs stockdesk-worker:18" in out
    assert list(deployment.temp.iterdir()) == [], (
        "the script removes its temporary files"
    )


def test_the_migration_runs_the_new_image_as_a_copy_of_the_web_task_definition(
    deployment,
):
    result = deployment.run(IMAGE)

    assert result.returncode == 0, result.stdout + result.stderr
    described = deployment.call("ecs describe-task-definition")
    assert described["options"]["--task-definition"] == [WEB_BEFORE]
    registered = deployment.call("ecs register-task-definition")["inputs"][
        "--cli-input-json"
    ]
    web = described_task_definition("web", 41, OLD_IMAGE)
    assert registered["family"] == "stockdesk-web-migrate"
    assert not READ_ONLY & set(registered)
    for key in ("taskRoleArn", "executionRoleArn", "networkMode", "cpu", "memory"):
        assert registered[key] == web[key]
    assert registered["requiresCompatibilities"] == ["FARGATE"]
    (container,) = registered["containerDefinitions"]
    (original,) = web["containerDefinitions"]
    assert container["image"] == IMAGE
    assert container["command"] == ["sh", "-c", MIGRATE]
    assert "portMappings" not in container and "healthCheck" not in container
    for key in ("name", "secrets", "environment", "logConfiguration"):
        assert container[key] == original[key]

    run = deployment.call("ecs run-task")["options"]
    assert run["--launch-type"] == ["FARGATE"]
    assert run["--cluster"] == ["stockdesk"]
    assert run["--task-definition"] == [arn("stockdesk-web-migrate", 7)]
    assert json.loads(run["--network-configuration"][0]) == NETWORK
    assert run["--started-by"] == [f"migrate-{COMMIT[:12]}"]
    waited = deployment.call("ecs wait tasks-stopped")["options"]["--tasks"]
    assert waited == [f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/stockdesk/{TASK_ID}"]


def test_outside_github_actions_the_migration_is_named_after_the_image_tag(deployment):
    tagged = "docker.io/stockdesk/stockdesk:v1.4.0"
    for kind in ("web", "worker"):
        after = deployment.scenario["services"][f"stockdesk-{kind}"]["after"]
        definition = deployment.scenario["task_definitions"][after]
        definition["containerDefinitions"][0]["image"] = tagged

    result = deployment.run(tagged, GITHUB_SHA="")

    assert result.returncode == 0, result.stdout + result.stderr
    started_by = deployment.call("ecs run-task")["options"]["--started-by"]
    assert started_by == ["migrate-v1-4-0"]


# --- (b) migrations that fail: the services are not touched --------------------------


@pytest.mark.parametrize(
    ("migration", "message"),
    [
        pytest.param(
            {"exit_code": 1},
            "Migrations failed with exit code 1",
            id="exit-code-1",
        ),
        pytest.param(
            {
                "exit_code": None,
                "stop_code": "TaskFailedToStart",
                "stopped_reason": "ResourceInitializationError: unable to pull secrets",
            },
            "ResourceInitializationError: unable to pull secrets",
            id="stopped-without-exit-code",
        ),
        pytest.param(
            {"exit_code": None, "still_running": True},
            "the task is still RUNNING",
            id="still-running",
        ),
    ],
)
def test_a_failed_migration_stops_the_deploy_and_says_where_its_output_is(
    deployment, migration, message
):
    deployment.scenario["migration"] = migration

    result = deployment.run(IMAGE)

    assert result.returncode == 1
    (error,) = errors(result)
    assert message in error
    assert "the services were not changed" in error
    assert f"log group {LOG_GROUP}, stream web/web/{TASK_ID}" in error
    assert "cloudformation deploy" not in deployment.commands()
    assert deployment.commands()[-1] == "ecs describe-tasks"


def test_a_migration_task_that_does_not_start_stops_the_deploy(deployment):
    deployment.scenario["migration"] = {"start_failure": "RESOURCE:ENI"}

    result = deployment.run(IMAGE)

    assert result.returncode == 1
    (error,) = errors(result)
    assert "The migration task did not start (RESOURCE:ENI" in error
    assert "the services were not changed" in error
    assert deployment.commands()[-1] == "ecs run-task"


# --- (c) the stack update fails: CloudFormation rolled it back ----------------------


def test_a_failed_stack_update_prints_its_failed_events_and_the_previous_revisions(
    deployment,
):
    deployment.scenario["deploy"] = {"succeeds": False, "events": FAILED_UPDATE_EVENTS}

    result = deployment.run(IMAGE)

    assert result.returncode == 1
    assert "ECS Deployment Circuit Breaker was triggered" in result.stdout
    assert "WebService (AWS::ECS::Service) UPDATE_FAILED" in result.stdout
    assert "last week's failure" not in result.stdout
    (error,) = errors(result)
    assert "stack update failed" in error
    assert "stockdesk-web:41" in error and "stockdesk-worker:17" in error
    assert WEB_BEFORE in result.stdout and WORKER_BEFORE in result.stdout
    assert deployment.commands()[-2:] == [
        "cloudformation deploy",
        "cloudformation describe-stack-events",
    ]


# --- (d) a "successful" update whose service still runs the old image ---------------


def test_a_service_left_on_the_old_image_fails_the_deploy(deployment):
    stale = arn("stockdesk-worker", 18)
    deployment.scenario["task_definitions"][stale] = described_task_definition(
        "worker", 18, OLD_IMAGE
    )

    result = deployment.run(IMAGE)

    assert result.returncode == 1
    (error,) = errors(result)
    assert (
        f"The worker service runs {OLD_IMAGE} (stockdesk-worker:18), not {IMAGE}"
        in error
    )
    assert "web now runs stockdesk-web:42" in result.stdout


# --- (e) wrong usage: nothing is asked of AWS ----------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        pytest.param((), {}, "IMAGE_URI is required", id="no-image"),
        pytest.param(("",), {}, "IMAGE_URI is required", id="empty-image"),
        pytest.param((IMAGE, "extra"), {}, "IMAGE_URI is required", id="two-arguments"),
        pytest.param(
            (IMAGE,), {"AWS_REGION": ""}, "AWS_REGION is not set", id="no-region"
        ),
    ],
)
def test_wrong_usage_fails_before_any_aws_call(deployment, args, env, message):
    result = deployment.run(*args, **env)

    assert result.returncode == 2
    (error,) = errors(result)
    assert message in error and "usage: scripts/ecs-deploy.sh IMAGE_URI" in error
    assert deployment.calls() == []


def test_a_stack_without_an_agreed_output_fails_before_any_ecs_call(deployment):
    del deployment.scenario["outputs"]["LogGroupName"]

    result = deployment.run(IMAGE)

    assert result.returncode == 1
    assert "the stack has no output LogGroupName" in result.stderr
    assert deployment.commands() == ["cloudformation describe-stacks"]
