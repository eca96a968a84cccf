"""Behind the load balancer the login lockout counts each client, not the balancer."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.core.test_abuse_settings import loaded

pytestmark = pytest.mark.django_db

BALANCER = "10.0.0.2"  # what REMOTE_ADDR is for every request behind the ALB
CLIENT_A = "81.2.69.160"
CLIENT_B = "216.160.83.56"


@pytest.fixture
def lockout_on(settings, django_user_model):
    settings.AXES_ENABLED = True
    django_user_model.objects.create_user(
        username="staff", password="right-pass-123", is_staff=True
    )
    return settings


@pytest.fixture(scope="module")
def behind_the_alb() -> dict:
    """What core.settings makes of AXES_PROXY_COUNT=1 (the ECS task's value)."""
    return loaded(AXES_PROXY_COUNT="1")


def client_behind_balancer(forwarded_for: str) -> Client:
    # The ALB appends the address it saw to whatever the client sent.
    return Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=forwarded_for)


def fail_five_times(client: Client) -> None:
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "staff", "password": "no"})


def log_in(client: Client):
    return client.post(
        reverse("admin:login"),
        {"username": "staff", "password": "right-pass-123", "next": "/admin/"},
    )


def test_two_clients_behind_one_balancer_are_counted_apart(lockout_on, behind_the_alb):
    lockout_on.AXES_IPWARE_META_PRECEDENCE_ORDER = tuple(behind_the_alb["order"])
    lockout_on.AXES_IPWARE_PROXY_COUNT = behind_the_alb["count"]
    lockout_on.IPWARE_STRICT = behind_the_alb["strict"]

    fail_five_times(client_behind_balancer(CLIENT_A))

    assert log_in(client_behind_balancer(CLIENT_A)).status_code == 429
    assert log_in(client_behind_balancer(CLIENT_B)).status_code == 302
    # A forged header does not move A into B's count: the ALB's entry is the last.
    forged = client_behind_balancer(f"{CLIENT_B}, {CLIENT_A}")
    assert log_in(forged).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT_A}


def test_without_the_proxy_setting_the_balancer_is_one_client(lockout_on):
    """The local default (AXES_PROXY_COUNT=0): the header is not trusted."""
    fail_five_times(client_behind_balancer(CLIENT_A))

    assert log_in(client_behind_balancer(CLIENT_B)).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {BALANCER}
