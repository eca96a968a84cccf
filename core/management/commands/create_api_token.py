"""manage.py create_api_token USERNAME: print a new API token once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it; it is not shown again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--name", default="command line", help="What the token is for."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"There is no user {options['username']!r}.")
        new = api_token_create(user=user, name=options["name"])
        self.stdout.write(new.raw_key)
        self.stderr.write(
            f"Token {new.token.prefix}… for {user.get_username()}: store it now, "
            "it is shown only once."
        )
