"""Models and migrations agree: moving code between apps must not move or rename a table."""

from django.core.management import call_command

from webhooks.models import Delivery, Event, Subscription


def test_the_models_need_no_new_migration(db):
    # Exits with status 1 when a model change has no migration (a moved model would show as one).
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_webhook_tables_keep_their_names_after_the_app_moved():
    assert {m._meta.db_table for m in (Subscription, Event, Delivery)} == {
        "webhooks_subscription", "webhooks_event", "webhooks_delivery",
    }  # fmt: skip
