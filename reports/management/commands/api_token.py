from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reports.models import ApiToken, validate_rate
from reports.tokens import token_create, token_revoke


class Command(BaseCommand):
    help = "Manage API tokens: create (prints the key once), revoke, list."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token for a user; prints the key once.")
        create.add_argument("--user", required=True, help="Username of the holder.")
        create.add_argument("--name", required=True, help="What the token is for.")
        create.add_argument("--create-user", action="store_true", help="Create the user if missing.")
        create.add_argument("--read-rate", default="", help="Override the read limit, e.g. 1200/min.")
        create.add_argument("--bulk-rate", default="", help="Override the bulk intake limit, e.g. 120/min.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix")
        sub.add_parser("list", help="List tokens (prefix, holder, name, created, last used, state).")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, *, user: str, name: str, create_user: bool, read_rate: str, bulk_rate: str, **_):
        for flag, rate in (("--read-rate", read_rate), ("--bulk-rate", bulk_rate)):
            try:
                validate_rate(rate)
            except ValidationError as exc:
                raise CommandError(f"{flag}: {exc.messages[0]}") from None
        User = get_user_model()
        holder = User.objects.filter(username=user).first()
        if holder is None:
            if not create_user:
                raise CommandError(f"no user {user!r} (add --create-user)")
            holder = User.objects.create_user(username=user)
        token, key = token_create(user=holder, name=name, read_rate=read_rate, bulk_rate=bulk_rate)
        self.stderr.write(f"Token {token.prefix} for {holder.username}: store the key now, it is not shown again.")
        self.stdout.write(key)

    def _revoke(self, *, prefix: str, **_):
        if not token_revoke(prefix=prefix):
            raise CommandError(f"no active token with prefix {prefix!r}")
        self.stdout.write(f"revoked {prefix}")

    def _list(self, **_):
        for t in ApiToken.objects.select_related("user"):
            state = "active" if t.is_active else f"revoked {t.revoked_at:%Y-%m-%d %H:%M}"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            self.stdout.write(
                f"{t.prefix}\t{t.user.username}\t{t.name}\t{t.created_at:%Y-%m-%d %H:%M}\tused {used}\t{state}"
            )
