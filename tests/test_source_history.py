"""A source's page shows its history: quotes per month as an SVG chart, and who it is
quoted beside."""

import re
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from blog.caching import current_version
from blog.charts import per_month, shifted, summary
from blog.models import Post, Quote
from tests.factories import PostFactory, SourceFactory, UpdateFactory, quoted

pytestmark = pytest.mark.django_db

# Mid-month, so that "a month ago" is never the same month by a time-zone hour.
NOW = timezone.make_aware(datetime(2026, 3, 15, 12, 0))


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def months_ago(months, day=10):
    """A time in the site's time zone, `months` before NOW's month."""
    month = shifted(date(2026, 3, 1), -months)
    return timezone.make_aware(datetime(month.year, month.month, day, 9, 0))


def quoting(*names, when, **fields):
    body = "\n\n".join(quoted(f"Said by {name}.", f"— {name}") for name in names)
    return PostFactory(body=body, published_at=when, **fields)


class Elements(HTMLParser):
    """Every element's tag and attributes, and the text inside each <svg>'s <title>."""

    def __init__(self, html):
        super().__init__()
        self.elements, self.titles, self._in_title = [], [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.titles.append(data)

    def find(self, tag, **wanted):
        return [a for t, a in self.elements if t == tag and wanted.items() <= a.items()]


def get_page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_chart_counts_quotes_per_month_and_the_busiest_month_has_the_tallest_bar(client):
    source = SourceFactory(name="Dana Reyes", slug="dana-reyes")
    for months, count in [(0, 1), (2, 4), (5, 2)]:
        for day in range(1, count + 1):
            quoting("Dana Reyes", when=months_ago(months, day=day))
    page = get_page(client, "/source/dana-reyes/")
    html = Elements(page)

    [svg] = html.find("svg", role="img")
    assert svg["aria-labelledby"] == "history-title"
    assert svg["aria-describedby"] == "history-summary"
    assert '<title id="history-title">Quotes of Dana Reyes per month</title>' in page
    bars = html.find("rect")
    assert len(bars) == 3  # months without a quote have no bar
    # Oldest first: two quotes in October, four in January (the busiest), one in March.
    heights = [float(bar["height"]) for bar in bars]
    assert heights == pytest.approx([heights[1] / 2, heights[1], heights[1] / 4])
    assert "January 2026: 4 times" in html.titles
    # Bars stand in month order, left to right.
    assert [float(bar["x"]) for bar in bars] == sorted(float(bar["x"]) for bar in bars)
    assert source.quotes.count() == 7


def test_the_chart_has_a_text_alternative_with_every_month_quoted(client):
    SourceFactory(name="Dana Reyes", slug="dana-reyes")
    quoting("Dana Reyes", when=months_ago(1))
    quoting("Dana Reyes", when=months_ago(1, day=20))
    quoting("Dana Reyes", when=months_ago(3))
    page = get_page(client, "/source/dana-reyes/")

    assert (
        '<figcaption id="history-summary">Quoted 3 times from December 2025 to March 2026; '
        "most often in February 2026 (twice).</figcaption>"
    ) in page
    table = re.search(r'<table class="visually-hidden">.*?</table>', page, re.S)[0]
    rows = re.findall(r'<th scope="row">(.+?)</th><td>(\d+)</td>', table)
    assert rows == [("December 2025", "1"), ("February 2026", "2")]


def test_the_chart_covers_the_last_24_months_or_since_the_first_quote(client):
    SourceFactory(name="Veteran", slug="veteran")
    SourceFactory(name="Newcomer", slug="newcomer")
    quoting("Veteran", when=months_ago(40))
    quoting("Veteran", when=months_ago(23))
    quoting("Newcomer", when=months_ago(2))

    veteran = per_month(Quote.objects.filter(source__slug="veteran"), "published_at")
    assert len(veteran) == 24
    assert veteran[0] == (date(2024, 4, 1), 1) and veteran[-1] == (date(2026, 3, 1), 0)
    assert "April 2024" in get_page(client, "/source/veteran/")

    newcomer = per_month(Quote.objects.filter(source__slug="newcomer"), "published_at")
    assert newcomer == [(date(2026, 1, 1), 1), (date(2026, 2, 1), 0), (date(2026, 3, 1), 0)]


def test_months_are_the_site_time_zone_s(client, settings):
    SourceFactory(name="Night Owl", slug="night-owl")
    # 23:30 in New York on 31 January is February in UTC.
    quoting("Night Owl", when=timezone.make_aware(datetime(2026, 1, 31, 23, 30)))
    series = per_month(Quote.objects.filter(source__slug="night-owl"), "published_at")
    assert series[0] == (date(2026, 1, 1), 1)


def test_a_source_not_quoted_lately_says_so():
    series = [(date(2026, 1, 1), 0), (date(2026, 2, 1), 0)]
    assert summary(series) == "Not quoted from January 2026 to February 2026."
    assert summary([(date(2026, 3, 1), 1)]) == "Quoted once in March 2026."
    assert summary([]) == ""


def test_only_what_readers_can_see_is_counted(client):
    SourceFactory(name="Dana Reyes", slug="dana-reyes")
    quoting("Dana Reyes", when=months_ago(1))
    quoting("Dana Reyes", when=None, status=Post.Status.DRAFT)
    quoting("Dana Reyes", when=NOW + timedelta(days=3))  # scheduled
    later = quoting("Someone Else", when=months_ago(1))
    UpdateFactory(post=later, body=quoted("Soon.", "— Dana Reyes"), published_at=NOW + timedelta(1))
    page = get_page(client, "/source/dana-reyes/")
    assert "Quoted once in" in page or "Quoted once from" in page
    assert len(Elements(page).find("rect")) == 1
    assert "Often quoted beside" not in page


def test_a_source_never_quoted_in_public_has_no_chart(client):
    SourceFactory(name="Quiet", slug="quiet")
    quoting("Quiet", when=None, status=Post.Status.DRAFT)
    page = get_page(client, "/source/quiet/")
    assert "<svg" not in page and "Quoted month by month" not in page


def test_often_quoted_beside_ranks_the_sources_sharing_the_most_posts(client):
    for name in ["Dana Reyes", "The Ledger", "Ana Ruiz", "Bo Chen"]:
        SourceFactory(name=name, slug=name.lower().replace(" ", "-"))
    quoting("Dana Reyes", "The Ledger", "Ana Ruiz", when=months_ago(1))
    quoting("Dana Reyes", "The Ledger", "The Ledger", when=months_ago(2))
    quoting("Dana Reyes", "The Ledger", when=months_ago(3))
    quoting("Bo Chen", "The Ledger", when=months_ago(1))  # not beside Dana Reyes
    quoting("Dana Reyes", "Bo Chen", when=None, status=Post.Status.DRAFT)
    page = get_page(client, "/source/dana-reyes/")

    section = re.search(r'<ol class="beside-list">(.*?)</ol>', page, re.S)[1]
    items = re.findall(r'<a href="([^"]+)">([^<]+)</a> <span class="meta">in (\d+) posts?', section)
    assert items == [
        ("/source/the-ledger/", "The Ledger", "3"),
        ("/source/ana-ruiz/", "Ana Ruiz", "1"),
    ]


def test_often_quoted_beside_shows_at_most_five(client):
    names = [f"Person {n}" for n in range(8)]
    for name in ["Dana Reyes", *names]:
        SourceFactory(name=name, slug=name.lower().replace(" ", "-"))
    quoting("Dana Reyes", *names, when=months_ago(1))
    page = get_page(client, "/source/dana-reyes/")
    section = re.search(r'<ol class="beside-list">(.*?)</ol>', page, re.S)[1]
    assert section.count("<li>") == 5


def test_the_history_follows_new_quotes_at_once(client):
    SourceFactory(name="Dana Reyes", slug="dana-reyes")
    SourceFactory(name="The Ledger", slug="the-ledger")
    quoting("Dana Reyes", when=months_ago(1))
    assert "Quoted once" in get_page(client, "/source/dana-reyes/")
    quoting("Dana Reyes", "The Ledger", when=months_ago(0, day=2))
    page = get_page(client, "/source/dana-reyes/")
    assert "Quoted twice from February 2026 to March 2026" in page
    assert '<a href="/source/the-ledger/">The Ledger</a>' in page


def test_names_in_the_chart_are_escaped_and_nothing_is_styled_inline(client):
    SourceFactory(name='<script>alert("x")</script> & Co', slug="evil")
    quoting('<script>alert("x")</script> & Co', "Dana Reyes", when=months_ago(1))
    page = get_page(client, "/source/evil/")
    assert "<script>alert" not in page
    assert "Quotes of &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co per month" in page
    assert not re.search(r"<[^>]+\sstyle=", page)
    assert get_page(client, "/source/dana-reyes/").count("&lt;script&gt;") >= 1


def test_the_source_page_stays_within_six_queries(client, settings, django_assert_max_num_queries):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": 0}
    for name in ["Dana Reyes", "The Ledger", "Ana Ruiz"]:
        SourceFactory(name=name, slug=name.lower().replace(" ", "-"))
    for months in range(30):
        quoting("Dana Reyes", "The Ledger", "Ana Ruiz", when=months_ago(months))
    cache.clear()
    current_version()
    with django_assert_max_num_queries(6):
        page = get_page(client, "/source/dana-reyes/")
    assert len(Elements(page).find("rect")) == 24
    # Remembered until the content changes: a second view makes neither query again.
    with django_assert_max_num_queries(3):
        get_page(client, "/source/dana-reyes/?page=2")
