"""The widespread event pages: the home banner, the event page, the incident's link, the Atom feed."""

from datetime import timedelta

from django.utils import timezone

from tests.test_events_api import make_event


def recent(**kw):
    return make_event(start=timezone.now() - timedelta(minutes=40), **kw)


def test_the_home_page_shows_a_banner_while_an_event_is_ongoing(client, db):
    event = recent(services=12, status="ongoing")
    page = client.get("/").content.decode()
    assert "event-banner" in page and f"/events/{event.pk}/" in page
    assert "12 services have problems at once" in page and "AWS us-east-1" in page
    event.status = "resolved"
    event.save()
    assert "event-banner" not in client.get("/").content.decode()


def test_the_event_page_tells_the_chance_the_provider_and_the_services_in_join_order(client, db):
    event = recent(services=12)
    page = client.get(f"/events/{event.pk}/").content.decode()
    assert "12 services within 11 minutes; by chance about 0.11 would be expected." in page
    assert "11 of 12 services run on AWS us-east-1 (25% of all services do): a likely common cause" in page
    order = [page.index(f">S{n}</a>") for n in range(12)]
    assert order == sorted(order)
    assert 'id="chart-event-data"' in page and 'id="chart-event-map-data"' in page
    assert "cdn" not in page.lower()


def test_the_event_page_speaks_french_and_german(client, db):
    event = recent(services=12)
    fr = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Panne généralisée" in fr and "12 services en 11 minutes" in fr
    de = client.get(f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Großflächige Störung" in de and "12 Dienste innerhalb von 11 Minuten" in de


def test_a_member_incident_links_to_its_event(client, db):
    event = recent(services=4)
    member = event.members.first()
    page = client.get(f"/incidents/{member.incident_id}/").content.decode()
    assert f'href="/events/{event.pk}/"' in page


def test_the_atom_feed_has_an_entry_per_event(client, db, django_assert_max_num_queries):
    for day in range(3):
        make_event(start=timezone.now() - timedelta(days=day + 1), services=5, prefix=f"f{day}-")
    with django_assert_max_num_queries(4):
        feed = client.get("/events/feed/")
    body = feed.content.decode()
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert body.count("<entry>") == 3 and "5 services at once" in body and "by chance about" in body
