"""`seed_demo`'s fleet: 40 services on a few providers and one widespread outage going on."""

import time

from django.utils import timezone

from analytics.models import WidespreadEvent
from demo.fleet import HIT, NAMES, load_fleet


def test_the_fleet_has_an_ongoing_event_naming_aws_us_east_1(client, db):
    started = time.monotonic()
    stored = load_fleet(now=timezone.now(), progress=lambda line: None)
    elapsed = time.monotonic() - started
    print(f"\nfleet: {len(NAMES)} services, {stored:,} reports in {elapsed:.1f} s")
    (event,) = WidespreadEvent.objects.all()
    assert event.status == "ongoing" and event.members.count() == HIT
    assert event.provider == "aws:us-east-1" and event.provider_members == HIT
    page = client.get("/").content.decode()
    assert "event-banner" in page and "AWS us-east-1" in page
    assert client.get(f"/events/{event.pk}/").status_code == 200
    assert load_fleet(now=timezone.now(), progress=lambda line: None) == 0  # a second run keeps it
