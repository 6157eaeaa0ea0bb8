"""Parsing what status pages answer: pure functions over bytes a stranger controls."""

from datetime import UTC, datetime

import pytest

from official import parsing

NOW = datetime(2021, 11, 19, 12, 0, tzinfo=UTC)
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Tesla status</title>
<entry><id>tag:x,2021:1</id><title>Owners locked out of the app</title>
<published>2021-11-19T11:30:00Z</published><link href="https://x.test/1"/></entry>
<entry><id>tag:x,2021:0</id><title>Resolved: slow charging map</title><updated>2021-11-18T09:00:00Z</updated></entry>
</feed>"""


def test_an_atom_feed_gives_its_entries_and_an_ongoing_problem():
    snapshot = parsing.feed(ATOM, now=NOW)
    assert snapshot.status == "degraded" and snapshot.changed_at == datetime(2021, 11, 19, 11, 30, tzinfo=UTC)
    assert [e.external_id for e in snapshot.incidents] == ["tag:x,2021:1", "tag:x,2021:0"]
    assert snapshot.incidents[0].url == "https://x.test/1" and snapshot.incidents[1].state == "resolved"


def test_an_old_or_resolved_newest_entry_means_operational():
    assert parsing.feed(ATOM, now=datetime(2021, 11, 20, tzinfo=UTC)).status == "operational"
    empty = b'<rss version="2.0"><channel><title>t</title></channel></rss>'
    assert parsing.feed(empty, now=NOW).status == "operational"


@pytest.mark.parametrize(
    "body",
    [
        # Entity expansion ("billion laughs"): defusedxml refuses it instead of expanding.
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<rss><channel><item><title>&b;</title></item></channel></rss>",
        # An external entity: a file of ours must never be read into a title.
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel>'
        b"<item><title>&x;</title></item></channel></rss>",
        b"<rss><channel><item>",
        b"<html><body>Status</body></html>",
        b"\xff\xfe not xml",
    ],
)
def test_hostile_or_broken_xml_is_a_parse_error(body):
    with pytest.raises(parsing.ParseError):
        parsing.feed(body, now=NOW)


@pytest.mark.parametrize(
    "body",
    [b"[1, 2]", b"{", b"[" * 100_000 + b"]" * 100_000, b'{"status": {"indicator": "on fire"}}', b"\xff",
     b'{"status": "none"}', b"1" * 5000],
)  # fmt: skip
def test_bad_statuspage_json_is_a_parse_error(body):
    with pytest.raises(parsing.ParseError):
        parsing.statuspage_summary(body)


def test_a_statuspage_summary_maps_the_indicator_and_skips_malformed_incidents():
    body = (
        b'{"page": {"updated_at": "2021-11-19T11:58:00.000Z"}, "status": {"indicator": "critical"},'
        b' "incidents": [{"id": "a1", "name": "Login", "created_at": "2021-11-19T11:50:00Z", "status": "identified"},'
        b' {"id": 7}, "junk", {"name": "no id", "created_at": "2021-11-19T11:50:00Z"}]}'
    )
    snapshot = parsing.statuspage_summary(body)
    assert snapshot.status == "major_outage" and snapshot.changed_at == datetime(2021, 11, 19, 11, 58, tzinfo=UTC)
    assert [(i.external_id, i.state) for i in snapshot.incidents] == [("a1", "identified")]
    with pytest.raises(parsing.ParseError):
        parsing.statuspage_incidents(b'{"incidents": "none"}')
