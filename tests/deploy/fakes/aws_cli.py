"""A stand-in for the AWS CLI: logs each call, answers from a scenario file.

Run as `python aws_cli.py ARGS...` through an `aws` wrapper first on PATH. It reads the
scenario (JSON) from $FAKE_AWS_SCENARIO and appends one JSON line per call to
$FAKE_AWS_LOG. Answers have the real CLI's shapes and exit codes (252 bad parameters,
253 no region, 254 a service error, 255 a failed `cloudformation deploy` or waiter), and
whatever the scenario does not cover fails loudly, so a changed script shows in a test.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

Options = dict[str, list[str]]
# RegisterTaskDefinition's request members: anything else is a parameter error, as the
# real CLI rejects the read-only fields DescribeTaskDefinition answers with.
REGISTER_MEMBERS = {
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "tags",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
}
GLOBAL_OPTIONS = {"--region", "--output", "--query", "--profile"}


class CliError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def service_error(operation: str, kind: str, message: str) -> CliError:
    return CliError(
        254,
        f"An error occurred ({kind}) when calling the {operation} operation: {message}",
    )


def parse(args: list[str]) -> tuple[str, Options]:
    """`ecs describe-services --cluster C --services A B` -> command and options."""
    words: list[str] = []
    options: Options = {}
    current: list[str] | None = None
    rest = iter(args)
    for arg in rest:
        if (
            arg in GLOBAL_OPTIONS
        ):  # one value each, and they may come before the command
            options[arg] = [next(rest)]
            current = None
        elif arg.startswith("--"):
            current = options.setdefault(arg, [])
        elif current is None:
            words.append(arg)
        else:
            current.append(arg)
    return " ".join(words), options


def one(options: Options, name: str) -> str:
    values = options.get(name, [])
    if len(values) != 1:
        raise CliError(252, f"aws: error: {name} takes one value, got {values}")
    return values[0]


def read_inputs(options: Options) -> dict[str, Any]:
    """The file:// arguments, read now: the script removes its files when it ends."""
    inputs = {}
    for name, values in options.items():
        for value in values:
            if value.startswith("file://"):
                inputs[name] = json.loads(
                    Path(value.removeprefix("file://")).read_text()
                )
    return inputs


class FakeAws:
    def __init__(
        self, scenario: dict[str, Any], previous: list[dict[str, Any]]
    ) -> None:
        self.scenario = scenario
        self.previous = previous
        self.region = scenario["region"]
        self.account = scenario["account"]

    def deployed(self) -> bool:
        """After a successful `cloudformation deploy` the services run the new revisions."""
        return self.scenario["deploy"]["succeeds"] and any(
            call["command"] == "cloudformation deploy" for call in self.previous
        )

    def task_arn(self) -> str:
        cluster = self.scenario["outputs"]["ClusterName"]
        return f"arn:aws:ecs:{self.region}:{self.account}:task/{cluster}/{self.scenario['task_id']}"

    def check_cluster(self, options: Options, operation: str) -> None:
        if one(options, "--cluster") != self.scenario["outputs"]["ClusterName"]:
            raise service_error(
                operation, "ClusterNotFoundException", "Cluster not found."
            )

    # --- cloudformation ------------------------------------------------------------

    def describe_stacks(self, options: Options, query: str | None) -> Any:
        name = one(options, "--stack-name")
        if name != self.scenario["stack_name"]:
            raise service_error(
                "DescribeStacks",
                "ValidationError",
                f"Stack with id {name} does not exist",
            )
        outputs = [
            {"OutputKey": key, "OutputValue": value, "Description": key}
            for key, value in self.scenario["outputs"].items()
        ]
        stack = {
            "StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{name}/1",
            "StackName": name,
            "StackStatus": "UPDATE_COMPLETE",
            "Outputs": outputs,
        }
        if query == "Stacks[0].Outputs":
            return outputs
        if query is None:
            return {"Stacks": [stack]}
        raise CliError(252, f"fake aws: unsupported --query {query}")

    def deploy(self, options: Options) -> str:
        template = one(options, "--template-file")
        if not Path(template).is_file():
            raise CliError(255, f"Invalid template path {template}")
        if not self.scenario["deploy"]["succeeds"]:
            raise CliError(
                255,
                "\nFailed to create/update the stack. Run the following command\n"
                "to fetch the list of events leading up to the failure\n"
                f"aws cloudformation describe-stack-events --stack-name {one(options, '--stack-name')}",
            )
        return (
            "\nWaiting for changeset to be created..\n"
            "Waiting for stack create/update to complete\n"
            f"Successfully created/updated stack - {one(options, '--stack-name')}"
        )

    def describe_stack_events(self, options: Options) -> Any:
        one(options, "--stack-name")
        return {"StackEvents": self.scenario["deploy"]["events"]}

    # --- ecs -------------------------------------------------------------------------

    def describe_services(self, options: Options) -> Any:
        self.check_cluster(options, "DescribeServices")
        cluster = self.scenario["outputs"]["ClusterName"]
        services, failures = [], []
        for name in options.get("--services", []):
            arn = f"arn:aws:ecs:{self.region}:{self.account}:service/{cluster}/{name}"
            revisions = self.scenario["services"].get(name)
            if revisions is None:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            running = revisions["after" if self.deployed() else "before"]
            services.append(
                {
                    "serviceArn": arn,
                    "serviceName": name,
                    "clusterArn": f"arn:aws:ecs:{self.region}:{self.account}:cluster/{cluster}",
                    "status": "ACTIVE",
                    "desiredCount": 2,
                    "runningCount": 2,
                    "launchType": "FARGATE",
                    "taskDefinition": running,
                    "deploymentConfiguration": {
                        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                        "maximumPercent": 200,
                        "minimumHealthyPercent": 100,
                    },
                    "deployments": [
                        {
                            "id": "ecs-svc/1234567890123456789",
                            "status": "PRIMARY",
                            "taskDefinition": running,
                            "desiredCount": 2,
                            "runningCount": 2,
                            "rolloutState": "COMPLETED",
                        }
                    ],
                    "networkConfiguration": self.scenario["network"],
                }
            )
        return {"services": services, "failures": failures}

    def describe_task_definition(self, options: Options) -> Any:
        arn = one(options, "--task-definition")
        if arn not in self.scenario["task_definitions"]:
            raise service_error(
                "DescribeTaskDefinition",
                "ClientException",
                "Unable to describe task definition.",
            )
        return {"taskDefinition": self.scenario["task_definitions"][arn]}

    def register_task_definition(self, options: Options) -> Any:
        (definition,) = read_inputs(options).values()
        if unknown := sorted(set(definition) - REGISTER_MEMBERS):
            raise CliError(
                252,
                "\nParameter validation failed:\n"
                + "\n".join(f'Unknown parameter in input: "{key}"' for key in unknown),
            )
        revision = self.scenario["migrate_revision"]
        family = definition["family"]
        return {
            "taskDefinition": {
                **definition,
                "taskDefinitionArn": f"arn:aws:ecs:{self.region}:{self.account}:task-definition/{family}:{revision}",
                "revision": revision,
                "status": "ACTIVE",
                "compatibilities": ["EC2", "FARGATE"],
                "registeredAt": "2025-06-02T09:00:00.000000+00:00",
            }
        }

    def run_task(self, options: Options) -> Any:
        self.check_cluster(options, "RunTask")
        registered = [
            call
            for call in self.previous
            if call["command"] == "ecs register-task-definition"
        ]
        family = (
            registered[-1]["inputs"]["--cli-input-json"]["family"] if registered else ""
        )
        expected = f"{family}:{self.scenario['migrate_revision']}"
        if not one(options, "--task-definition").endswith(f"/{expected}"):
            raise service_error(
                "RunTask", "ClientException", "TaskDefinition not found."
            )
        try:
            json.loads(one(options, "--network-configuration"))["awsvpcConfiguration"]
        except (ValueError, KeyError) as exc:
            raise CliError(
                252, f"Error parsing parameter '--network-configuration': {exc}"
            ) from exc
        migration = self.scenario["migration"]
        if "start_failure" in migration:
            return {
                "tasks": [],
                "failures": [
                    {"arn": self.task_arn(), "reason": migration["start_failure"]}
                ],
            }
        return {
            "tasks": [
                {
                    "taskArn": self.task_arn(),
                    "lastStatus": "PROVISIONING",
                    "desiredStatus": "RUNNING",
                    "launchType": "FARGATE",
                    "startedBy": one(options, "--started-by"),
                    "containers": [{"name": "web", "lastStatus": "PENDING"}],
                }
            ],
            "failures": [],
        }

    def wait_tasks_stopped(self, options: Options) -> None:
        self.check_cluster(options, "DescribeTasks")
        if one(options, "--tasks") != self.task_arn():
            raise CliError(255, "Waiter TasksStopped failed: unknown task")
        if self.scenario["migration"].get("still_running"):
            raise CliError(255, "Waiter TasksStopped failed: Max attempts exceeded")

    def describe_tasks(self, options: Options) -> Any:
        self.check_cluster(options, "DescribeTasks")
        migration = self.scenario["migration"]
        web: dict[str, Any] = {"name": "web", "lastStatus": "STOPPED"}
        if migration.get("exit_code") is not None:
            web["exitCode"] = migration["exit_code"]
        task = {
            "taskArn": one(options, "--tasks"),
            "lastStatus": "RUNNING" if migration.get("still_running") else "STOPPED",
            "stopCode": migration.get("stop_code", "EssentialContainerExited"),
            "stoppedReason": migration.get(
                "stopped_reason", "Essential container in task exited"
            ),
            "containers": [web],
        }
        return {"tasks": [task], "failures": []}

    def answer(self, command: str, options: Options, query: str | None) -> Any:
        handlers = {
            "cloudformation describe-stacks": lambda: self.describe_stacks(
                options, query
            ),
            "cloudformation deploy": lambda: self.deploy(options),
            "cloudformation describe-stack-events": lambda: self.describe_stack_events(
                options
            ),
            "ecs describe-services": lambda: self.describe_services(options),
            "ecs describe-task-definition": lambda: self.describe_task_definition(
                options
            ),
            "ecs register-task-definition": lambda: self.register_task_definition(
                options
            ),
            "ecs run-task": lambda: self.run_task(options),
            "ecs wait tasks-stopped": lambda: self.wait_tasks_stopped(options),
            "ecs describe-tasks": lambda: self.describe_tasks(options),
        }
        if command not in handlers:
            raise CliError(252, f"fake aws: unexpected call: {command}")
        return handlers[command]()


def main(argv: list[str]) -> int:
    scenario = json.loads(Path(os.environ["FAKE_AWS_SCENARIO"]).read_text())
    log = Path(os.environ["FAKE_AWS_LOG"])
    previous = (
        [json.loads(line) for line in log.read_text().splitlines()]
        if log.exists()
        else []
    )
    command, options = parse(argv)
    region = options.pop("--region", [None])[-1]
    output = options.pop("--output", ["json"])[-1]
    query = options.pop("--query", [None])[-1]
    record = {
        "argv": argv,
        "command": command,
        "region": region,
        "options": options,
        "inputs": read_inputs(options),
    }
    with log.open("a") as calls:
        calls.write(json.dumps(record) + "\n")
    try:
        if region is None:
            raise CliError(253, "You must specify a region.")
        if output != "json":
            raise CliError(252, f"fake aws: unsupported --output {output}")
        answer = FakeAws(scenario, previous).answer(command, options, query)
    except CliError as error:
        print(error, file=sys.stderr)
        return error.code
    if isinstance(answer, str):
        print(answer)
    elif answer is not None:
        print(json.dumps(answer, indent=4))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
