"""R1/R2: the production configuration passes Django's deployment checklist."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.deploy.helpers import production_environment, run_python

CHECK = ("manage.py", "check", "--deploy", "--fail-level", "WARNING")


def test_check_deploy_is_clean_with_the_ecs_task_environment():
    env = production_environment("web")
    assert env["DEBUG"] == "false"
    result = run_python(*CHECK, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr


def test_check_deploy_still_catches_the_local_defaults():
    # The check has teeth: production without HSTS and SSL redirect is reported.
    env = {
        **production_environment("web"),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
    }
    result = run_python(*CHECK, env=env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr
    assert "security.W008" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**production_environment("web"), "SECRET_KEY": ""}
    result = run_python("manage.py", "check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.django_db
@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_plain_http_is_redirected_except_the_health_check():
    client = Client()
    assert client.get("/healthz").status_code == 200
    redirect = client.get("/admin/login/")
    assert redirect.status_code == 301
    assert redirect["Location"].startswith("https://")
    behind_the_balancer = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert behind_the_balancer.status_code == 200
