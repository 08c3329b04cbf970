"""Small charts drawn on the server as inline SVG: nothing to load or run in the browser."""

from datetime import date

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html, format_html_join

# The drawing's own units; it is scaled to the column's width (static/css/site.css).
WIDTH, HEIGHT = 480, 120
TOP, BOTTOM, LEFT = 10, 20, 24  # room for the labels


def per_month(rows, field, months=24):
    """[(first day of a month, rows dated in it)] from the month of the first row, or
    `months` ago if that is earlier, to this month; [] when there are no rows. One
    grouped query; months are the site's (TIME_ZONE), as addresses and archives are."""
    counts = (
        rows.annotate(month=TruncMonth(field))
        .values("month")
        .annotate(count=Count("pk"))
        .order_by("month")
    )
    found = {timezone.localtime(row["month"]).date(): row["count"] for row in counts}
    if not found:
        return []
    last = timezone.localdate().replace(day=1)
    first = max(min(found), shifted(last, 1 - months))
    series, month = [], first
    while month <= last:
        series.append((month, found.get(month, 0)))
        month = shifted(month, 1)
    return series


def shifted(month, by):
    """The first of the month `by` months after (or before) `month`."""
    index = month.year * 12 + month.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)


def summary(series):
    """The chart in a sentence, for everyone and for screen readers."""
    if not series:
        return ""
    total = sum(count for _, count in series)
    start, end = month_name(series[0][0]), month_name(series[-1][0])
    span = f"in {end}" if start == end else f"from {start} to {end}"
    if not total:
        return f"Not quoted {span}."
    busiest, most = max(series, key=lambda item: (item[1], item[0]))
    text = f"Quoted {times(total)} {span}"
    if len(series) > 1:
        text += f"; most often in {month_name(busiest)} ({times(most)})"
    return f"{text}."


def times(count):
    return "once" if count == 1 else "twice" if count == 2 else f"{count:,} times"


def month_name(month):
    return format_date(month, "F Y")


def month_bars(series, title, name):
    """A bar per month, drawn to scale against the busiest month: role="img", named by
    its title and described by the page's element `<name>-summary` (the summary)."""
    most = max((count for _, count in series), default=0) or 1
    slot = (WIDTH - LEFT) / max(len(series), 1)
    plot = HEIGHT - TOP - BOTTOM
    bars = []
    for index, (month, count) in enumerate(series):
        if not count:
            continue
        height = max(plot * count / most, 2)
        width = min(slot * 0.7, 28)  # a few months are still bars, not slabs
        bars.append(
            (
                f"{LEFT + index * slot + (slot - width) / 2:.1f}",
                f"{TOP + plot - height:.1f}",
                f"{width:.1f}",
                f"{height:.1f}",
                f"{month_name(month)}: {times(count)}",
            )
        )
    baseline = TOP + plot
    first, last = month_name(series[0][0]), month_name(series[-1][0])
    ends = format_html(
        '<text class="chart-label" x="{}" y="{}">{}</text>',
        LEFT,
        HEIGHT - 4,
        first,
    )
    if len(series) > 1:
        ends += format_html(
            '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>',
            WIDTH,
            HEIGHT - 4,
            last,
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="{name}-title" aria-describedby="{name}-summary" focusable="false">'
        '<title id="{name}-title">{title}</title>'
        '<text class="chart-label" x="0" y="{top_label}">{most}</text>'
        '<line class="chart-grid" x1="{left}" y1="{top}" x2="{width}" y2="{top}" '
        'stroke="currentColor" stroke-dasharray="2 3"/>'
        "{bars}"
        '<line class="chart-axis" x1="{left}" y1="{baseline}" x2="{width}" y2="{baseline}" '
        'stroke="currentColor"/>'
        "{ends}</svg>",
        width=WIDTH,
        height=HEIGHT,
        name=name,
        title=title,
        top_label=TOP + 4,
        most=most,
        left=LEFT,
        top=TOP,
        bars=format_html_join(
            "",
            '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" fill="currentColor">'
            "<title>{}</title></rect>",
            bars,
        ),
        baseline=baseline,
        ends=ends,
    )
