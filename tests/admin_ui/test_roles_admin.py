"""Roles in the admin (DESIGN §11): each action and button needs its permission.

A Viewer sees no action or button that queues work and is refused (403) when posting
one anyway; the symbol page's buttons queue only on a POST carrying the CSRF token.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django_q.models import OrmQ, Success
from django_q.tasks import async_task

from core.models import ApiToken, Job, Symbol
from core.services import api_token_create, job_create, job_fail
from tests.admin_ui.conftest import (
    BACKTEST_FORM,
    confirm_dialog,
    csrf_token,
    logged_in,
    post_action,
    role_user,
)
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db

SYMBOLS = reverse("admin:core_symbol_changelist")
JOBS = reverse("admin:core_job_changelist")
TOKENS = reverse("admin:core_apitoken_changelist")
# Each bulk action on the Symbols list, the Job kind it queues, the form it needs.
SYMBOL_ACTIONS = [
    ("fetch_prices", Job.Kind.FETCH, {}),
    ("run_backtest", Job.Kind.BACKTEST, {"apply": "1", **BACKTEST_FORM}),
    ("train_model", Job.Kind.TRAIN, {}),
    ("forecast_30_days", Job.Kind.PREDICT, {}),
    ("generate_report", Job.Kind.REPORT, {}),
]
# Each button on a symbol's page: its URL's last part and the Job kind it queues.
SYMBOL_BUTTONS = [
    ("fetch", Job.Kind.FETCH, {}),
    ("backtest", Job.Kind.BACKTEST, BACKTEST_FORM),
    ("train", Job.Kind.TRAIN, {"method": "ets"}),
    ("forecast", Job.Kind.PREDICT, {}),
    ("report", Job.Kind.REPORT, {}),
]


@pytest.fixture
def symbol() -> Symbol:
    return make_symbol("ROLE", name="Role Corp")


def button_url(symbol: Symbol, path: str) -> str:
    return f"/admin/core/symbol/{symbol.pk}/{path}/"


def failed_job(kind: str, symbol: Symbol) -> Job:
    job = job_create(kind=kind, ticker=symbol.ticker, symbol=symbol)
    return job_fail(job=job, message="The worker stopped.", code="internal_error")


# --- Viewer: sees no work to start, and is refused when posting it anyway -----------


def test_a_viewer_sees_no_action_or_button_that_queues_work(viewer_client, symbol):
    listing = viewer_client.get(SYMBOLS).content.decode()
    page = viewer_client.get(
        reverse("admin:core_symbol_change", args=[symbol.pk])
    ).content.decode()

    assert "ROLE" in listing and "Role Corp" in page  # they do see the data
    for action, _, _ in SYMBOL_ACTIONS:
        assert f'value="{action}"' not in listing
    for path, _, _ in SYMBOL_BUTTONS:
        assert button_url(symbol, path) not in page
    jobs = viewer_client.get(JOBS).content.decode()
    assert 'value="retry"' not in jobs


def test_the_sidebar_links_only_the_lists_each_role_may_open(
    viewer_client, superuser_client
):
    users = reverse("admin:auth_user_changelist")
    viewer_page = viewer_client.get(reverse("admin:index")).content.decode()
    superuser_page = superuser_client.get(reverse("admin:index")).content.decode()

    assert f'href="{SYMBOLS}"' in viewer_page and f'href="{JOBS}"' in viewer_page
    assert f'href="{users}"' not in viewer_page
    assert viewer_client.get(users).status_code == 403
    assert f'href="{users}"' in superuser_page


@pytest.mark.parametrize(("action", "kind", "form"), SYMBOL_ACTIONS)
def test_a_viewer_posting_a_symbol_action_is_refused_and_queues_nothing(
    viewer_client, symbol, action, kind, form
):
    response = post_action(viewer_client, SYMBOLS, action, [symbol.pk], **form)

    assert response.status_code == 403
    assert not Job.objects.exists()


@pytest.mark.parametrize(("path", "kind", "form"), SYMBOL_BUTTONS)
def test_a_viewer_opening_or_posting_a_button_url_is_refused(
    viewer_client, symbol, path, kind, form
):
    token = csrf_token(
        viewer_client.get(reverse("admin:core_symbol_change", args=[symbol.pk]))
    )
    url = button_url(symbol, path)

    assert viewer_client.get(url).status_code == 403
    posted = viewer_client.post(
        url, {"csrfmiddlewaretoken": token, "_form_submitted": "True", **form}
    )
    assert posted.status_code == 403
    assert not Job.objects.exists()


def test_a_viewer_cannot_retry_a_failed_job(viewer_client, symbol):
    job = failed_job(Job.Kind.FETCH, symbol)
    page = viewer_client.get(reverse("admin:core_job_change", args=[job.pk]))
    retry_url = reverse("admin:core_job_retry_detail", args=[job.pk])
    assert "The worker stopped." in page.content.decode()
    assert retry_url not in page.content.decode()

    assert post_action(viewer_client, JOBS, "retry", [job.pk]).status_code == 403
    assert viewer_client.get(retry_url).status_code == 403
    assert Job.objects.count() == 1


def test_a_viewer_cannot_resubmit_tasks_or_import_prices(viewer_client):
    task = Success.objects.get(pk=async_task("math.floor", 1.5, sync=True))
    queue = OrmQ.objects.count()
    tasks = reverse("admin:django_q_success_changelist")

    assert 'value="resubmit"' not in viewer_client.get(tasks).content.decode()
    assert post_action(viewer_client, tasks, "resubmit", [task.pk]).status_code == 403
    assert OrmQ.objects.count() == queue
    prices = viewer_client.get(reverse("admin:core_pricebar_changelist"))
    assert reverse("admin:core_pricebar_import") not in prices.content.decode()
    assert viewer_client.get(reverse("admin:core_pricebar_import")).status_code == 403


# --- Analyst and narrower grants: exactly the work they hold the permission for -----


def test_an_analyst_sees_every_action_and_button(analyst_client, symbol):
    listing = analyst_client.get(SYMBOLS).content.decode()
    page = analyst_client.get(
        reverse("admin:core_symbol_change", args=[symbol.pk])
    ).content.decode()

    for action, _, _ in SYMBOL_ACTIONS:
        assert f'value="{action}"' in listing
    for path, _, _ in SYMBOL_BUTTONS:
        assert button_url(symbol, path) in page


@pytest.mark.parametrize(("action", "kind", "form"), SYMBOL_ACTIONS)
def test_an_analyst_queues_each_symbol_action(
    analyst_client, analyst, symbol, action, kind, form
):
    response = post_action(analyst_client, SYMBOLS, action, [symbol.pk], **form)

    assert response.status_code == 302
    job = Job.objects.get()
    assert (job.kind, job.ticker, job.created_by) == (kind, "ROLE", analyst)


def test_staff_holding_one_permission_get_that_action_only(symbol):
    fetcher = User.objects.create_user(username="fetcher", is_staff=True)
    fetcher.user_permissions.add(
        Permission.objects.get(codename="view_symbol"),
        Permission.objects.get(codename="run_fetch"),
    )
    client = logged_in(fetcher)

    listing = client.get(SYMBOLS).content.decode()
    page = client.get(
        reverse("admin:core_symbol_change", args=[symbol.pk])
    ).content.decode()
    assert 'value="fetch_prices"' in listing and 'value="train_model"' not in listing
    assert button_url(symbol, "fetch") in page
    assert button_url(symbol, "report") not in page

    refused = post_action(client, SYMBOLS, "train_model", [symbol.pk])
    assert refused.status_code == 403 and not Job.objects.exists()
    assert client.get(button_url(symbol, "report")).status_code == 403
    post_action(client, SYMBOLS, "fetch_prices", [symbol.pk])
    assert list(Job.objects.values_list("kind", flat=True)) == [Job.Kind.FETCH]


def test_retry_needs_the_permission_of_the_jobs_kind(symbol):
    fetcher = role_user("fetcher", "Viewer")
    fetcher.user_permissions.add(Permission.objects.get(codename="run_fetch"))
    client = logged_in(fetcher)
    fetch, train = (
        failed_job(Job.Kind.FETCH, symbol),
        failed_job(Job.Kind.TRAIN, symbol),
    )

    train_page = client.get(reverse("admin:core_job_change", args=[train.pk]))
    train_retry = reverse("admin:core_job_retry_detail", args=[train.pk])
    assert train_retry not in train_page.content.decode()
    assert client.get(train_retry).status_code == 403
    fetch_page = client.get(reverse("admin:core_job_change", args=[fetch.pk]))
    assert (
        reverse("admin:core_job_retry_detail", args=[fetch.pk])
        in fetch_page.content.decode()
    )

    response = post_action(client, JOBS, "retry", [fetch.pk, train.pk])
    message = client.get(response["Location"]).content.decode()

    assert "Queued 1 new job(s) (1 of a kind you may not run, left alone)" in message
    new = Job.objects.exclude(pk__in=[fetch.pk, train.pk]).get()
    assert (new.kind, new.created_by) == (Job.Kind.FETCH, fetcher)


# --- the symbol page's buttons: a GET asks, only the POST with CSRF queues ----------


@pytest.mark.parametrize(("path", "kind", "form"), SYMBOL_BUTTONS)
def test_a_button_opens_a_confirmation_that_queues_nothing(
    superuser_client, symbol, path, kind, form
):
    dialog = superuser_client.get(button_url(symbol, path))

    page = dialog.content.decode()
    assert dialog.status_code == 200
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page
    assert "ROLE" in page  # it names the symbol it will queue for
    assert not Job.objects.exists()


@pytest.mark.parametrize(("path", "kind", "form"), SYMBOL_BUTTONS)
def test_a_confirmed_button_queues_one_job_and_returns_to_the_symbol(
    superuser_client, admin_user, symbol, path, kind, form
):
    _, done = confirm_dialog(superuser_client, button_url(symbol, path), form)

    symbol_page = reverse("admin:core_symbol_change", args=[symbol.pk])
    assert done.headers["HX-Redirect"] == symbol_page
    job = Job.objects.get()
    assert (job.kind, job.symbol, job.created_by) == (kind, symbol, admin_user)
    assert "Queued 1 " in superuser_client.get(symbol_page).content.decode()


@pytest.mark.parametrize(("path", "kind", "form"), SYMBOL_BUTTONS)
def test_a_button_post_without_the_csrf_token_is_refused(
    superuser_client, symbol, path, kind, form
):
    response = superuser_client.post(
        button_url(symbol, path), {"_form_submitted": "True", **form}
    )

    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_button_posted_without_javascript_redirects_to_the_symbol(
    superuser_client, symbol
):
    url = button_url(symbol, "fetch")
    token = csrf_token(superuser_client.get(url))

    response = superuser_client.post(
        url, {"csrfmiddlewaretoken": token, "_form_submitted": "True"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:core_symbol_change", args=[symbol.pk])
    assert Job.objects.get().kind == Job.Kind.FETCH


# --- API tokens: a superuser manages everyone's, an Analyst their own, a Viewer none --


def test_an_analyst_sees_and_revokes_only_their_own_tokens(
    analyst_client, analyst, admin_user
):
    own = api_token_create(user=analyst, name="analyst-laptop").token
    other = api_token_create(user=admin_user, name="boss-server").token

    listing = analyst_client.get(TOKENS).content.decode()
    assert "analyst-laptop" in listing and "boss-server" not in listing
    opened = analyst_client.get(reverse("admin:core_apitoken_change", args=[other.pk]))
    assert opened.status_code == 302  # "does not exist", as for any unknown id

    post_action(analyst_client, TOKENS, "revoke", [own.pk, other.pk])

    own.refresh_from_db()
    other.refresh_from_db()
    assert own.is_revoked and not other.is_revoked


def test_an_analyst_makes_tokens_for_themselves_only(
    analyst_client, analyst, admin_user
):
    add_url = reverse("admin:core_apitoken_add")
    form = analyst_client.get(add_url)
    assert 'name="user"' not in form.content.decode()

    response = analyst_client.post(
        add_url,
        {
            "csrfmiddlewaretoken": csrf_token(form),
            "name": "mine",
            "user": admin_user.pk,
        },
        follow=True,
    )

    token = ApiToken.objects.get(name="mine")
    assert token.user == analyst
    assert "copy it now" in response.content.decode()


def test_a_viewer_sees_their_own_token_but_cannot_revoke_or_add(
    viewer_client, viewer, admin_user
):
    own = api_token_create(user=viewer, name="viewer-reader").token
    other = api_token_create(user=admin_user, name="boss-server").token

    listing = viewer_client.get(TOKENS).content.decode()
    assert "viewer-reader" in listing and "boss-server" not in listing
    assert 'value="revoke"' not in listing

    assert post_action(viewer_client, TOKENS, "revoke", [own.pk]).status_code == 403
    assert viewer_client.get(reverse("admin:core_apitoken_add")).status_code == 403
    own.refresh_from_db()
    other.refresh_from_db()
    assert not own.is_revoked and not other.is_revoked


def test_a_superuser_sees_and_revokes_everyones_tokens(
    superuser_client, analyst, admin_user
):
    theirs = api_token_create(user=analyst, name="analyst-laptop").token
    listing = superuser_client.get(TOKENS).content.decode()
    assert "analyst-laptop" in listing and "desk-analyst" in listing

    post_action(superuser_client, TOKENS, "revoke", [theirs.pk])

    theirs.refresh_from_db()
    assert theirs.is_revoked
