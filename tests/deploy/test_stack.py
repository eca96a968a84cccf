"""deploy/stack.yaml, the AWS stack: what docs/deploy.md and the deploy script rely on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.helpers import (
    ROOT,
    STACK,
    Resolver,
    container,
    documented_variables,
    production_environment,
    stack,
    stack_parameters,
    task_definition,
)

CFN_LINT = Path(sys.executable).with_name("cfn-lint")
# What the deploy script (scripts/ecs-deploy.sh) and the docs read from the stack.
OUTPUTS = {
    "ClusterName",
    "WebServiceName",
    "WorkerServiceName",
    "WebTaskFamily",
    "WorkerTaskFamily",
    "LoadBalancerDnsName",
    "LogGroupName",
    "DeployRoleArn",
    "AlphaVantageKeySecretArn",
}
# The production configuration both containers get (HSTS and SENTRY_DSN at the defaults).
PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "stockdesk.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://stockdesk.example.com",
    "USE_X_FORWARDED_PROTO": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "AXES_PROXY_COUNT": "1",
    "DJANGO_Q_BROKER": "orm",
    "CACHE_BACKEND": "redis",
    "REDIS_URL": "redis://stockdesk-cache.invalid:6379/0",
    "DJANGO_Q_WORKERS": "2",
    "PRICE_PROVIDER": "alpha_vantage",
    "ALPHA_VANTAGE_PLAN": "auto",
    "ALPHA_VANTAGE_DAILY_LIMIT": "25",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
    "SENTRY_DSN": "",
    "SENTRY_ENVIRONMENT": "production",
    "TIME_ZONE": "UTC",
    "GUNICORN_WORKERS": "2",
    "GUNICORN_THREADS": "4",
    "GUNICORN_TIMEOUT": "60",
    "DATABASE_HOST": "stockdesk-db.invalid",
    "DATABASE_PORT": "5432",
    "DATABASE_NAME": "stockdesk",
}
SECRETS = {"SECRET_KEY", "DATABASE_USER", "DATABASE_PASSWORD", "ALPHA_VANTAGE_API_KEY"}


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in stack()["Resources"].items() if v["Type"] == kind}


def properties(logical: str) -> dict[str, Any]:
    return stack()["Resources"][logical]["Properties"]


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CFN_LINT), "--", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# --- cfn-lint (scripts/lint-deploy.sh) -------------------------------------------------


def test_cfn_lint_finds_nothing_in_the_stack():
    result = cfn_lint(STACK)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        # An error: a property CloudFormation does not know.
        ("HealthCheckPath: /healthz", "HealthCheckPage: /healthz", "E3002"),
        # A warning fails too: an engine version RDS no longer creates.
        ('EngineVersion: "16.10"', 'EngineVersion: "16.1"', "W3691"),
    ],
)
def test_cfn_lint_fails_on_a_broken_copy(tmp_path, old, new, finding):
    text = STACK.read_text()
    assert text.count(old) == 1
    broken = tmp_path / "stack.yaml"
    broken.write_text(text.replace(old, new))
    result = cfn_lint(broken)
    assert result.returncode != 0
    assert finding in result.stdout


def test_the_template_is_small_enough_to_deploy_without_an_s3_bucket():
    # `aws cloudformation deploy` sends a template body of up to 51,200 bytes inline.
    assert len(STACK.read_bytes()) < 51_200


# --- the containers ------------------------------------------------------------------


def test_web_and_worker_get_one_production_configuration():
    web, worker = (properties(f"{kind}TaskDefinition") for kind in ("Web", "Worker"))
    (web_container,) = web["ContainerDefinitions"]
    (worker_container,) = worker["ContainerDefinitions"]
    # As written in the template, intrinsic functions included.
    assert web_container["Environment"] == worker_container["Environment"]
    assert web_container["Secrets"] == worker_container["Secrets"]
    for kind in ("web", "worker"):
        env = {i["name"]: i["value"] for i in container(kind)["environment"]}
        assert env == PRODUCTION, kind
        assert {i["name"] for i in container(kind)["secrets"]} == SECRETS
    assert container("web")["image"] == container("worker")["image"]
    assert (
        container("worker", ImageUri="docker.io/o/r:abc")["image"]
        == "docker.io/o/r:abc"
    )


def test_the_hsts_and_sentry_parameters_reach_both_containers():
    chosen = {
        "HstsSeconds": "300",
        "HstsIncludeSubdomains": "false",
        "HstsPreload": "false",
        "SentryDsn": "https://key@sentry.example.invalid/1",
    }
    for kind in ("web", "worker"):
        env = production_environment(kind, **chosen)
        assert env["SECURE_HSTS_SECONDS"] == "300"
        assert env["SECURE_HSTS_INCLUDE_SUBDOMAINS"] == "false"
        assert env["SECURE_HSTS_PRELOAD"] == "false"
        assert env["SENTRY_DSN"] == chosen["SentryDsn"]


def test_every_secret_comes_from_secrets_manager_and_only_those_are_readable():
    secrets = set(resources("AWS::SecretsManager::Secret"))
    rds_secret = "${Database.MasterUserSecret.SecretArn}"
    (web,) = properties("WebTaskDefinition")["ContainerDefinitions"]
    sources = {item["Name"]: item["ValueFrom"] for item in web["Secrets"]}
    assert sources.pop("DATABASE_USER") == {"Fn::Sub": f"{rds_secret}:username::"}
    assert sources.pop("DATABASE_PASSWORD") == {"Fn::Sub": f"{rds_secret}:password::"}
    assert properties("Database")["ManageMasterUserPassword"] is True
    for name, source in sources.items():
        assert set(source) == {"Ref"} and source["Ref"] in secrets, name
    assert not {i["Name"] for i in web["Environment"]} & SECRETS
    # The execution role reads these secrets and, when set, the registry login.
    policy = properties("ExecutionRole")["Policies"][0]["PolicyDocument"]
    (reads,) = [
        s for s in policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"
    ]
    assert reads["Resource"] == [
        {"Ref": "SecretKeySecret"},
        {"Ref": "AlphaVantageKeySecret"},
        {"Fn::GetAtt": ["Database", "MasterUserSecret.SecretArn"]},
        {
            "Fn::If": [
                "HasRepositoryCredentials",
                {"Ref": "ImageRepositoryCredentialsArn"},
                {"Ref": "AWS::NoValue"},
            ]
        },
    ]


def test_a_private_docker_hub_image_is_pulled_with_the_credentials_secret():
    login = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dockerhub-AbCdEf"
    for kind in ("web", "worker"):
        assert "repositoryCredentials" not in container(kind)
        private = container(kind, ImageRepositoryCredentialsArn=login)
        assert private["repositoryCredentials"] == {"credentialsParameter": login}


def test_every_container_variable_is_documented_in_env_example():
    named = {
        i["name"] for kind in ("web", "worker") for i in container(kind)["environment"]
    }
    assert named - documented_variables() == set()
    assert SECRETS - documented_variables() == set()


def test_the_database_variables_name_the_stacks_database():
    database = properties("Database")
    assert database["DBName"] == PRODUCTION["DATABASE_NAME"]
    assert database["Engine"] == "postgres"
    assert database["EngineVersion"].split(".")[0] == "16"
    assert database["StorageEncrypted"] is True
    assert database["DeletionProtection"] is True
    assert database["BackupRetentionPeriod"] >= 7
    assert database["PubliclyAccessible"] is False


def test_both_tasks_mount_the_media_file_system_as_the_images_user():
    for kind in ("web", "worker"):
        definition = task_definition(kind)
        assert definition["family"] == f"stockdesk-{kind}"
        (volume,) = definition["volumes"]
        efs = volume["efsVolumeConfiguration"]
        assert efs["transitEncryption"] == "ENABLED"
        assert efs["authorizationConfig"]["iam"] == "ENABLED"
        (mount,) = definition["containerDefinitions"][0]["mountPoints"]
        assert (mount["sourceVolume"], mount["containerPath"]) == (
            "media",
            "/app/media",
        )
    access_point = properties("MediaAccessPoint")
    assert access_point["PosixUser"] == {"Uid": "10001", "Gid": "10001"}
    subnets = [properties(m)["SubnetId"] for m in resources("AWS::EFS::MountTarget")]
    assert {s["Fn::Select"][0] for s in subnets} == {0, 1}


# --- network, load balancer, services ---------------------------------------------------


def ingress(group: str) -> set[tuple[int, str]]:
    rules = properties(group).get("SecurityGroupIngress", [])
    return {
        (rule["FromPort"], rule.get("CidrIp") or rule["SourceSecurityGroupId"]["Ref"])
        for rule in rules
    }


def test_each_security_group_lets_in_only_its_clients():
    anywhere = "0.0.0.0/0"
    assert ingress("AlbSecurityGroup") == {(443, anywhere), (80, anywhere)}
    assert ingress("WebSecurityGroup") == {(8000, "AlbSecurityGroup")}
    assert ingress("WorkerSecurityGroup") == set()
    apps = {"WebSecurityGroup", "WorkerSecurityGroup"}
    for group, port in [
        ("DatabaseSecurityGroup", 5432),
        ("CacheSecurityGroup", 6379),
        ("FileSystemSecurityGroup", 2049),
    ]:
        assert ingress(group) == {(port, app) for app in apps}, group


def test_the_load_balancer_checks_healthz_and_drains_before_web_is_stopped():
    group = properties("WebTargetGroup")
    assert (group["TargetType"], group["Port"]) == ("ip", 8000)
    assert group["HealthCheckPath"] == "/healthz"
    assert group["Matcher"] == {"HttpCode": "200"}
    attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    drain = int(attributes["deregistration_delay.timeout_seconds"])
    assert 0 < drain < container("web")["stopTimeout"]
    https = properties("HttpsListener")
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert https["DefaultActions"][0]["TargetGroupArn"] == {"Ref": "WebTargetGroup"}
    (redirect,) = properties("HttpListener")["DefaultActions"]
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"


def test_both_services_roll_a_failed_deployment_back_and_allow_ecs_exec():
    for service in ("WebService", "WorkerService"):
        spec = properties(service)
        deployment = spec["DeploymentConfiguration"]
        assert deployment["DeploymentCircuitBreaker"] == {
            "Enable": True,
            "Rollback": True,
        }
        assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == (
            100,
            200,
        )
        assert spec["EnableExecuteCommand"] is True
        assert spec["NetworkConfiguration"]["AwsvpcConfiguration"][
            "AssignPublicIp"
        ] == ("DISABLED")
    web = properties("WebService")
    assert web["LoadBalancers"] == [
        {
            "ContainerName": "web",
            "ContainerPort": 8000,
            "TargetGroupArn": {"Ref": "WebTargetGroup"},
        }
    ]
    assert web["HealthCheckGracePeriodSeconds"] >= 60
    assert "LoadBalancers" not in properties("WorkerService")


def test_a_new_secret_version_restarts_both_services():
    pattern = properties("SecretChangeRule")["EventPattern"]
    assert pattern["detail-type"] == ["Secret Label Updated"]
    assert pattern["detail"] == {"labelUpdated": ["AWSCURRENT"]}
    (web,) = properties("WebTaskDefinition")["ContainerDefinitions"]
    task_secrets = [item["ValueFrom"] for item in web["Secrets"]]
    rds = {"Fn::GetAtt": ["Database", "MasterUserSecret.SecretArn"]}
    assert pattern["resources"] == [s for s in task_secrets if "Ref" in s] + [rds]
    (target,) = properties("SecretChangeRule")["Targets"]
    assert target["Arn"] == {"Ref": "RestartServices"}
    machine = properties("RestartServices")
    restarted = [
        machine["DefinitionSubstitutions"][state["Parameters"]["Service"][2:-1]]
        for state in machine["Definition"]["States"].values()
        if state["Parameters"]["ForceNewDeployment"] is True
    ]
    assert restarted == [{"Ref": "WebService"}, {"Ref": "WorkerService"}]


# --- alarms ----------------------------------------------------------------------------


def test_the_5xx_and_failed_job_alarms_notify_the_sns_topic():
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in resources("AWS::CloudWatch::Alarm").values()
    }
    assert set(alarms) == {
        "HTTPCode_Target_5XX_Count",
        "HTTPCode_ELB_5XX_Count",
        "JobsFailed",
    }
    assert stack()["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"
    for name in ("HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"):
        assert alarms[name]["Namespace"] == "AWS/ApplicationELB"
    jobs = alarms["JobsFailed"]
    assert (jobs["Threshold"], jobs["ComparisonOperator"]) == (
        0,
        "GreaterThanThreshold",
    )
    assert (jobs["Period"], jobs["EvaluationPeriods"], jobs["Statistic"]) == (
        300,
        1,
        "Sum",
    )
    subscription = stack()["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"


def test_the_metric_filter_counts_the_job_failed_lines_of_the_containers_log_group():
    (name,) = resources("AWS::Logs::MetricFilter")
    metric_filter = properties(name)
    assert metric_filter["FilterPattern"] == '{ $.event = "job_failed" }'
    assert metric_filter["LogGroupName"] == {"Ref": "LogGroup"}
    (metric,) = metric_filter["MetricTransformations"]
    alarm = properties("JobsFailedAlarm")
    assert (metric["MetricNamespace"], metric["MetricName"]) == (
        alarm["Namespace"],
        alarm["MetricName"],
    )
    for kind in ("web", "worker"):
        options = container(kind)["logConfiguration"]["options"]
        assert options["awslogs-group"] == "/ecs/stockdesk"
        assert options["awslogs-stream-prefix"] == kind


# --- parameters, outputs, the deploy role ---------------------------------------------


def documented_defaults() -> dict[str, str]:
    """docs/deploy.md's parameter table: | `Name` | `default`, (empty) or (required) |"""
    text = (ROOT / "docs/deploy.md").read_text()
    table = text[text.index("| parameter | default |") :].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", table, flags=re.MULTILINE)
    cells = {name: cell.strip() for name, cell in rows}
    return {
        name: "" if cell == "(empty)" else cell.strip("`")
        for name, cell in cells.items()
    }


def test_the_hsts_defaults_are_what_docs_deploy_md_advises():
    documented = documented_defaults()
    assert documented["HstsSeconds"] == "31536000"
    assert documented["HstsIncludeSubdomains"] == "true"
    assert documented["HstsPreload"] == "true"
    defaults = {
        name: str(spec.get("Default")) for name, spec in stack()["Parameters"].items()
    }
    assert set(documented) == set(defaults)
    for name, documented_default in documented.items():
        if "Default" in stack()["Parameters"][name]:
            assert documented_default == defaults[name], name
        else:
            assert documented_default == "(required)", name


def test_the_outputs_the_deploy_script_reads_exist():
    outputs = stack()["Outputs"]
    assert set(outputs) == OUTPUTS
    assert outputs["DeployRoleArn"]["Condition"] == "HasGitHubRepository"
    assert (
        outputs["WebTaskFamily"]["Value"] == properties("WebTaskDefinition")["Family"]
    )
    assert (
        outputs["WorkerTaskFamily"]["Value"]
        == properties("WorkerTaskDefinition")["Family"]
    )


def test_the_deploy_role_trusts_only_the_repositorys_production_environment():
    role = stack()["Resources"]["DeployRole"]
    assert role["Condition"] == "HasGitHubRepository"
    assert (
        stack()["Resources"]["GitHubOidcProvider"]["Condition"] == "CreateOidcProvider"
    )
    resolver = Resolver(stack(), stack_parameters(GitHubRepository="acme/stockdesk"))
    assert resolver.condition("HasGitHubRepository")
    assert not Resolver(stack(), stack_parameters()).condition("HasGitHubRepository")
    (trust,) = resolver.resolve(role["Properties"]["AssumeRolePolicyDocument"])[
        "Statement"
    ]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:acme/stockdesk:environment:production",
    }
    statements = resolver.resolve(role["Properties"]["Policies"][0]["PolicyDocument"])[
        "Statement"
    ]
    actions = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not [a for a in actions if a.endswith("*")]
    assert {a for a in actions if a.startswith("iam:")} == {
        "iam:PassRole",
        "iam:GetRole",
    }
    (run_task,) = [s for s in statements if s["Action"] == "ecs:RunTask"]
    assert run_task["Resource"].endswith(":task-definition/stockdesk-web-migrate:*")
