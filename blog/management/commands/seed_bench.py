"""Bulk-create realistic, invented content for benchmarks: `manage.py seed_bench --posts N`."""

import calendar
import random
import time
from datetime import timedelta
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag, TaggedItem

from blog import search
from blog.caching import content_changed
from blog.markdown import render
from blog.models import Category, Post, Quote, Source, Update, tag_uri

# Authors' usernames and the slugs of seeded categories and sources start with this, so a
# later run can tell bench content from an editor's.
PREFIX = "bench-"
TYPICAL_SLUG = "bench-typical-post"
LIVE_SLUG = "bench-live-thread"
BATCH = 2000
LIVE_UPDATES = 200
LIVE_QUOTES = 20
DEVELOPING_END = "More as it develops…"

# Everything below is invented: the places, outlets and people do not exist. Word lists
# are packed by hand, one line of words after another.

# fmt: off
FIRST_NAMES = [
    "Adaeze", "Anouk", "Bea", "Bram", "Bruno", "Callum", "Carys", "Cleo", "Dana", "Desmond",
    "Dmitri", "Elif", "Emeka", "Farid", "Fergus", "Greta", "Hamish", "Hana", "Idris", "Ilse",
    "Ines", "Jonah", "Joanne", "Kasia", "Keiko", "Lena", "Luca", "Marcus", "Mateo", "Mira",
    "Nils", "Noor", "Odile", "Oskar", "Pavel", "Priya", "Quinn", "Rosa", "Ruth", "Sigrid",
    "Soren", "Talia", "Tomas", "Umar", "Vera", "Wendell", "Xenia", "Yara", "Yusuf", "Zora",
]
LAST_NAMES = [
    "Abara", "Albrecht", "Ambrose", "Ashdown", "Birch", "Blackwood", "Brandt", "Castellano",
    "Corliss", "Crane", "Darrow", "Dunmore", "Elsworth", "Everly", "Fairlie", "Fenwick",
    "Ferreira", "Grafton", "Haddad", "Hale", "Holloway", "Ingram", "Ivers", "Jessop", "Jurado",
    "Kessler", "Kilbride", "Kowalczyk", "Larkin", "Laurent", "Lindgren", "Marsh", "Merrow",
    "Moreau", "Nakamura", "Natarajan", "Northey", "Oakes", "Okonjo", "Osei", "Pellegrini",
    "Penhale", "Quist", "Rahimi", "Reyes", "Roscoe", "Sayegh", "Sorensen", "Stannard", "Thorne",
    "Tiwari", "Ueda", "Upshaw", "Valdez", "Vance", "Wexley", "Whitcombe", "Yardley", "Yilmaz",
    "Zeller",
]
PLACES = [
    "Harbor", "Bayside", "Eastbrook", "Northgate", "Kestrel Bay", "Salt Hollow", "Marrow Point",
    "Corran", "Amberley", "Tessaly", "Westmere", "Highcliff", "Fennick", "Greywater", "Lowmoor",
    "Redfern Valley", "Stonehaven", "Millbrook", "Oldport", "Brightwater",
]
PAPERS = [
    "Tribune", "Ledger", "Courier", "Gazette", "Herald", "Dispatch", "Sentinel", "Observer",
    "Chronicle", "Record",
]
STATIONS = ["Public Radio", "News Network", "Wire Service", "Business Journal", "Review"]
BEATS = [
    "city-hall", "transport", "housing", "labour", "courts", "business", "education", "health",
    "environment", "politics", "port", "science",
]
# fmt: on
ROLES = [
    "a housing economist at {place} State University",
    "the councillor for Ward {n}",
    "the secretary of the dockworkers' union local",
    "a shop owner near the ferry terminal",
    "the chair of the {place} tenants' association",
    "the deputy mayor in charge of the budget",
    "a transport planner who used to work for the city",
    "a retired harbour pilot",
    "the head of the {place} chamber of commerce",
    "a public-health researcher",
    "the spokesperson for the port authority",
    "a school principal on the north side",
    "a lawyer who advises the council",
    "a historian of the waterfront",
    "a night-shift nurse at the general hospital",
]

ACTORS = [
    "the council",
    "the mayor's office",
    "the port authority",
    "the transit board",
    "the finance committee",
    "the planning commission",
    "the school board",
    "the housing agency",
    "the regional assembly",
    "the harbour master",
    "the water utility",
    "the parks department",
    "the ferry operator",
    "the union local",
    "the chamber of commerce",
    "the police oversight panel",
    "the hospital trust",
    "the university senate",
    "the appeals court",
    "the ministry",
]
THINGS = [
    "the budget",
    "the night-bus routes",
    "the reserve fund",
    "the ferry timetable",
    "the zoning map",
    "the rent cap",
    "the water rates",
    "the library hours",
    "the dredging contract",
    "the school calendar",
    "the parking levy",
    "the shift rota",
    "the inspection rules",
    "the pension plan",
    "the bridge repairs",
    "the housing plan",
    "the tram extension",
    "the tourist tax",
    "the recycling contract",
    "the ward boundaries",
    "the clinic closures",
    "the flood barrier",
    "the market licences",
    "the stadium deal",
]
VERBS = [
    "postponed",
    "quietly revised",
    "approved",
    "sent back",
    "refused to discuss",
    "rewrote",
    "delayed again",
    "put out to consultation",
    "tabled",
    "scrapped",
    "doubled down on",
    "split over",
]
WHEN = [
    "on Tuesday",
    "late last night",
    "this morning",
    "after a closed session",
    "before the holiday",
    "at the last minute",
    "for the second time this year",
    "without a public hearing",
    "over the weekend",
    "within an hour of the deadline",
]
GROUPS = [
    "renters",
    "night-shift workers",
    "small shops",
    "commuters from the north side",
    "families with children in public schools",
    "pensioners",
    "delivery drivers",
    "the port's subcontractors",
    "students",
    "first-time buyers",
    "fishing crews",
    "market traders",
]
MONTHS = list(calendar.month_name)[1:]
DAYS = list(calendar.day_name)[:6]

COMMENTARY = [
    "{Actor} {verb} {thing} {when}.",
    "The short version is that nobody has the votes to change {thing}.",
    "That matters, because {thing} touches almost everyone who lives east of the river.",
    "I don't think this is routine, whatever {actor} says.",
    "What nobody has explained is why {thing} needed to change at all.",
    "The numbers are less dramatic than the headlines: {n} per cent, not the {m} being quoted.",
    "Here is the part worth watching.",
    "If {actor} wanted a quiet week, this was not the way to get one.",
    "It is the {nth} time since {year} that {thing} has come back to the table.",
    "Nobody I spoke to expects {actor} to back down before {month}.",
    "There are two ways to read this, and both end with {actor} paying for it.",
    "The official line is that {thing} was always going to be reviewed.",
    "That is a long way from what was promised in {year}.",
    "Readers who wrote in this week were mostly worried about {thing}.",
    "Read the documents, though, and a different picture emerges.",
    "{Actor} has not answered our questions about {thing}.",
    "Still, it would be wrong to pretend {thing} was ever popular.",
    "The cost, about {n} million dollars a year, lands mostly on {group}.",
    "{Group} will feel this first, and they were not asked.",
    "My guess is that {thing} survives, in a smaller form, until {month}.",
    "None of this is new to anyone who sat through the hearings in {year}.",
    "The timing is awkward for {actor}, which has spent a year promising calm.",
    "Put simply, {thing} is now a bargaining chip.",
    "A memo circulated {when} suggests the decision was made weeks ago.",
    "It is worth remembering who asked for {thing} in the first place: {group}.",
    "So far the reaction from {actor} has been silence.",
]
QUOTED = [
    "Nobody in that room believes {thing} will pass as written.",
    "We asked for the figures in {month} and we are still waiting.",
    "The deal on {thing} is close, but close is not done.",
    "{Actor} has had {n} months to fix this and has chosen not to.",
    "If you change {thing}, you change the whole calculation for {group}.",
    "I have covered {actor} for {n} years, and I have not seen a split like this.",
    "Our reading of the filings is that {thing} will cost {n} million dollars more than planned.",
    "People are tired of hearing that {thing} is temporary.",
    "Three members told us privately that they would vote against {thing}.",
    "The draft we have seen leaves {thing} untouched until at least {year}.",
    "There is no version of this where {group} come out ahead.",
    "We will keep asking until someone puts a number on {thing}.",
    "Call it progress if you like. I call it a delay with a press release.",
    "Everyone agrees on the problem. Nobody agrees on who pays for the answer.",
    "{Actor} told us {when} that a statement would follow. It has not.",
    "The vote count changes every time someone leaves the chamber for coffee.",
    "We are not against {thing}. We are against finding out about it from the newspaper.",
    "What worries me is not this year. It is the year after, when the reserve is gone.",
]
UPDATE_LINES = [
    "The vote is now set for {day}.",
    "{Actor} says a statement will follow {when}.",
    "We have asked {actor} about {thing} and will add the answer here.",
    "The meeting has broken up without a decision.",
    "A second session is scheduled for {day} at {hour} o'clock.",
    "Reporters outside say the doors have just opened again.",
    "{n} people have signed up to speak at the hearing.",
    "The documents are now public; we are reading them and will summarise shortly.",
    "The chamber has adjourned for an hour.",
    "Several readers have asked about {thing}. Short answer: nothing changes until {month}.",
]
CORRECTIONS = [
    "**Correction:** an earlier update gave the cost of {thing} as {n} million dollars. "
    "It is {m} million. Thanks to the reader who checked.",
    "**Correction:** this post said {actor} met {when}. It met the day before.",
    "**Correction:** we misnamed the committee responsible for {thing}; it is {actor}.",
    "**Correction:** an earlier version put the turnout at {n} per cent; it was {m} per cent.",
]
TITLE_TAILS = [
    "council split, vote delayed",
    "what the numbers say",
    "a deal, for now",
    "who pays, and how much",
    "the part nobody read",
    "three questions nobody answered",
    "why it stalled",
    "the quiet rewrite",
    "what changes on Monday",
    "winners and losers",
    "back to the drawing board",
    "the fine print",
    "a promise, revisited",
    "not so fast",
    "the week it unravelled",
]
TITLES = [
    "{Topic}: {tail}",
    "{Topic}: {tail}",
    "{Topic}: {tail}",
    "Why {actor} {verb} {topic}",
    "{Topic}, explained",
    "What {actor} is not saying about {topic}",
    "{Actor} {verb} {topic} {when}",
    "{Topic} and {group}: {tail}",
    "Who wins if {actor} gets its way on {topic}",
]
# fmt: off
TAG_WORDS = [
    "budget", "council", "transit", "housing", "rents", "wages", "port", "strike", "labour",
    "ferries", "waterfront", "elections", "mayor", "taxes", "schools", "libraries", "parks",
    "water", "flooding", "climate", "courts", "police", "hospitals", "health", "pensions",
    "tourism", "fishing", "shipping", "trade", "markets", "zoning", "bridges", "trams", "buses",
    "cycling", "parking", "recycling", "energy", "universities", "culture", "museums", "theatre",
    "sport", "stadium", "media", "press freedom", "transparency", "corruption", "audits",
    "lobbying", "unions", "small business", "startups", "inflation", "interest rates", "mortgages",
    "homelessness", "immigration", "census", "weather", "storms", "heritage", "archaeology",
    "science", "data",
]
# fmt: on
TAG_TOPICS = ["council", "schools", "housing", "transit", "budget", "elections", "port"]
CATEGORIES = [
    ("politics", "Politics", None),
    ("city-hall", "City Hall", "politics"),
    ("elections", "Elections", "politics"),
    ("world", "World", None),
    ("the-strait", "The Strait", "world"),
    ("economy", "Economy", None),
    ("housing", "Housing", "economy"),
    ("labour", "Labour", "economy"),
    ("transport", "Transport", None),
    ("environment", "Environment", None),
    ("culture", "Culture", None),
    ("opinion", "Opinion", None),
]


def capitalised(text):
    return text[:1].upper() + text[1:]


class Pool:
    """The fixed cast: authors, categories, sources and tags, the same for every seed."""

    def __init__(self):
        rng = random.Random("seed_bench cast")
        names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
        rng.shuffle(names)
        self.authors = names[:10]
        self.outlets = []  # (name, aliases)
        for place in PLACES:
            for paper in rng.sample(PAPERS, 2):
                self.outlets.append((f"The {place} {paper}", [f"{place} {paper}"]))
            self.outlets.append((f"{place} {rng.choice(STATIONS)}", []))
        self.people = []  # (name, aliases, outlet name or None, description)
        initials = set()
        for index, name in enumerate(names[10:260]):
            first, last = name.split(" ", 1)
            alias = f"{first[0]}. {last}"
            aliases = [alias] if index % 9 == 0 and alias not in initials else []
            initials.update(aliases)
            if index % 5 == 4:
                role = rng.choice(ROLES).format(place=rng.choice(PLACES), n=rng.randint(1, 12))
                self.people.append((name, aliases, None, capitalised(role) + "."))
            else:
                outlet = rng.choice(self.outlets)[0]
                beat = rng.choice(BEATS)
                self.people.append((name, aliases, outlet, f"{capitalised(beat)} at {outlet}."))
        tags = list(TAG_WORDS)
        tags += [f"{place.lower()} {topic}" for place in PLACES for topic in TAG_TOPICS]
        self.tags = tags[:200]


class Slots(dict):
    """A template's values, drawn only when the template uses them ({Actor}: capitalised)."""

    CHOICES = {
        "actor": ACTORS,
        "verb": VERBS,
        "when": WHEN,
        "group": GROUPS,
        "month": MONTHS,
        "day": DAYS,
        "nth": ["second", "third", "fourth", "fifth"],
    }
    NUMBERS = {"year": (2009, 2022), "hour": (2, 9), "n": (2, 40), "m": (41, 90)}

    def __init__(self, rng, topic, values):
        super().__init__(values)
        self.rng, self.topic = rng, topic

    def __missing__(self, key):
        name = key.lower()
        if name == "thing":
            use_topic = self.topic and self.rng.random() < 0.5
            value = self.topic if use_topic else self.rng.choice(THINGS)
        elif name in self.NUMBERS:
            value = str(self.rng.randint(*self.NUMBERS[name]))
        else:
            value = self.rng.choice(self.CHOICES[name])
        self[key] = capitalised(value) if key[0].isupper() else value
        return self[key]


class Writer:
    """Invents Markdown in the shape DESIGN.md describes, from a seeded random generator."""

    def __init__(self, rng, outlets, people):
        self.rng = rng
        self.outlets = outlets  # Source rows
        self.people = people  # Source rows, .affiliation set for affiliated people
        # Some sources are quoted far more often than others, as on a real site.
        self.cum_outlets = list(accumulate(1 / (rank + 1) for rank in range(len(outlets))))
        self.cum_people = list(accumulate(1 / (rank + 1) for rank in range(len(people))))

    def fill(self, template, topic=None, values=()):
        return capitalised(template.format_map(Slots(self.rng, topic, values)))

    def paragraph(self, templates, topic, low, high):
        chosen = self.rng.sample(templates, self.rng.randint(low, high))
        return " ".join(self.fill(template, topic) for template in chosen)

    def source(self):
        if self.rng.random() < 0.3:
            return self.rng.choices(self.outlets, cum_weights=self.cum_outlets)[0]
        return self.rng.choices(self.people, cum_weights=self.cum_people)[0]

    def attributed(self, topic, source=None, nested=False):
        """(intro line in the author's voice, the quote as Markdown lines)."""
        rng = self.rng
        source = source or self.source()
        dash = rng.choices(["—", "―", "--"], weights=[85, 8, 7])[0]
        outlet = source if source.kind == Source.Kind.OUTLET else source.affiliation
        the_outlet = ""
        if outlet is not None:
            written = rng.choice([outlet.name, *outlet.alias_list()])
            the_outlet = "the " + outlet.name[4:] if outlet.name.startswith("The ") else outlet.name
            link = f"https://{slugify(outlet.name).replace('-', '')}.example/"
            link += f"{rng.randint(2019, 2025)}/{rng.randint(1, 12):02d}/{slugify(topic)}"
        if source.kind == Source.Kind.OUTLET:
            intro = rng.choice(
                ["From {o}:", "{O} has the numbers:", "The key paragraph from {o}:"]
                + ["Here is how {o} reported it:", "{O} put it this way:"]
            )
            credit = f"[{written}]({link})" if rng.random() < 0.6 else written
        elif outlet is not None:
            intro = rng.choice(
                ["So says {o}'s {beat} reporter:", "{Name} of {o}, who has followed this:"]
                + ["{O}'s {beat} correspondent was more direct:", "Here is {name}, in {o}:"]
            )
            credit = rng.choice(
                [f"{source.name}, {written}", f"{source.name}, [{written}]({link})", source.name]
            )
        else:
            intro = rng.choice(
                ["And here is more from {role}:", "{Role} put it more bluntly:"]
                + ["{Name}, asked whether this was the end of it:", "I asked {name} what next:"]
            )
            credit = rng.choice([source.name, *source.alias_list()])
        intro = intro.format(
            o=the_outlet,
            O=capitalised(the_outlet),
            beat=rng.choice(BEATS),
            name=source.name,
            Name=source.name,
            role=source.description.rstrip(".").lower(),
            Role=source.description.rstrip("."),
        )
        paragraphs = [self.paragraph(QUOTED, topic, 2, 4)]
        if rng.random() < 0.25:
            paragraphs.append(self.paragraph(QUOTED, topic, 1, 3))
        lines = []
        for paragraph in paragraphs:
            lines += [paragraph, ""]
        if nested:  # the quote reports what a third party said, itself attributed
            inner = self.rng.choice([p for p in self.people if p.affiliation is None])
            lines += [f"> {line}" if line else ">" for line in self.attributed(topic, inner)[1]]
            lines += ["", self.paragraph(QUOTED, topic, 1, 2), ""]
        lines.append(f"{dash} {credit}")
        return intro, lines

    def body(self, quotes, words=600, developing=False, nested=True):
        """A post: commentary alternating with `quotes` attributed quotes, about `words` long.

        One quote in ten reports another (two Quote rows) unless `nested` is false.
        Returns (markdown, topic, excerpt).
        """
        rng = self.rng
        topic = rng.choice(THINGS)
        blocks = [self.paragraph(COMMENTARY, topic, 3, 5)]
        for index in range(quotes):
            intro, lines = self.attributed(topic, nested=nested and rng.random() < 0.1)
            if rng.random() < 0.5:
                blocks[-1] += " " + intro
            else:
                blocks.append(intro)
            blocks.append("\n".join(f"> {line}" if line else ">" for line in lines))
            if index < quotes - 1 or rng.random() < 0.7:
                blocks.append(self.paragraph(COMMENTARY, topic, 3, 6))
        while len(" ".join(blocks).split()) < words - 25:
            blocks.append(self.paragraph(COMMENTARY, topic, 2, 5))
        if developing:
            blocks.append(DEVELOPING_END)
        excerpt = blocks[0].split(". ")[0].rstrip(".") + "."
        return "\n\n".join(blocks) + "\n", topic, excerpt

    def update(self, quoted):
        topic = self.rng.choice(THINGS)
        blocks = [self.paragraph(UPDATE_LINES, topic, 1, 3)]
        if quoted:
            intro, lines = self.attributed(topic)
            blocks += [intro, "\n".join(f"> {line}" if line else ">" for line in lines)]
        return "\n\n".join(blocks) + "\n"

    def correction(self):
        return self.fill(self.rng.choice(CORRECTIONS)) + "\n"

    def title(self, topic):
        bare = topic.removeprefix("the ")
        values = {"topic": topic, "Topic": capitalised(bare), "tail": self.rng.choice(TITLE_TAILS)}
        return self.fill(self.rng.choice(TITLES), values=values)


class Rendered:
    """One distinct Markdown text, rendered once and shared by every row that uses it."""

    def __init__(self, markdown, resolve, topic="", excerpt=""):
        found = render(markdown, resolve)
        self.markdown, self.html, self.topic, self.excerpt = markdown, found.html, topic, excerpt
        self.quotes = [
            (quote.source.pk, quote.text, quote.url[:2000], quote.attribution[:500])
            for quote in found.quotes
        ]


def reserve_ids(model, count):
    """Primary keys for rows about to be inserted, so their guids go into the same INSERT.

    Minting guids after the insert would rewrite every row a second time.
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the write lock, so nobody inserts meanwhile. Start
        # past AUTOINCREMENT's high-water mark too, so a deleted row's id is never reused.
        cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")
        highest = cursor.fetchone()[0] or 0
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            highest = max(highest, row[0] if row else 0)
        return list(range(highest + 1, highest + 1 + count))


def settle(models):
    """Fresh planner statistics, so a benchmark right after seeding plans as it will later.

    PostgreSQL's autovacuum would get there in its own time (if it is on); outside a
    transaction VACUUM also sets the visibility map that index-only scans rely on.
    """
    if connection.vendor != "postgresql":
        return
    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"{verb} {connection.ops.quote_name(model._meta.db_table)}")


class Command(BaseCommand):
    help = (
        "Fill a scratch database with invented content for benchmarks. --posts N makes the "
        "database hold N bench posts (about 600 words, attributed quotes, tags, dates over "
        "the past six years, a few drafts, scheduled posts and developing stories), among "
        f"them '{TYPICAL_SLUG}' and '{LIVE_SLUG}' ({LIVE_UPDATES} updates, {LIVE_QUOTES} "
        "quotes). With fewer bench posts it adds the missing ones; with N or more it does "
        f"nothing. Bench authors, categories and sources are marked by the '{PREFIX}' prefix "
        "of their username or slug; the command refuses a database holding any other posts, "
        "updates, sources or categories unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--posts", type=int, required=True, help="How many bench posts the database holds."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument(
            "--force", action="store_true", help="Seed even though editors' content is present."
        )

    def handle(self, *args, posts, seed, force, **options):
        if posts < 2:
            raise CommandError(f"--posts must be at least 2 ({TYPICAL_SLUG} and {LIVE_SLUG}).")
        started = time.monotonic()
        found = self.editors_content()
        if found and not force:
            raise CommandError(
                f"This database holds {', '.join(found)} that seed_bench did not create. "
                "seed_bench is for scratch benchmark databases; use --force to add bench "
                "content anyway."
            )
        existing = Post.objects.filter(author__username__startswith=PREFIX).count()
        if existing >= posts:
            self.stdout.write(
                f"Already seeded: {existing:,} bench posts (asked for {posts:,}); nothing to do."
            )
            return
        self.rng = random.Random(f"{seed}:{existing}")
        self.created = dict.fromkeys(
            ["authors", "categories", "sources", "tags", "posts", "scheduled", "drafts"]
            + ["developing", "closed threads", "updates", "corrections", "quotes", "tag links"],
            0,
        )
        with transaction.atomic():
            self.load_cast()
        self.prepare_texts(posts - existing)
        self.create_posts(posts - existing)
        settle([Post, Update, Quote, TaggedItem, Tag, Source])
        content_changed()
        summary = ", ".join(f"{count:,} {kind}" for kind, count in self.created.items())
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Created {summary} in {elapsed:.1f} s."))

    def editors_content(self):
        bench = {"author__username__startswith": PREFIX}
        checks = {
            "posts": Post.objects.exclude(**bench),
            "updates": Update.objects.exclude(**bench),
            "sources": Source.objects.exclude(slug__startswith=PREFIX),
            "categories": Category.objects.exclude(slug__startswith=PREFIX),
        }
        return [name for name, rows in checks.items() if rows.exists()]

    # --- The cast: created once, found again by later runs -------------------------------

    def load_cast(self):
        pool = Pool()
        self.authors = self.load_authors(pool.authors)
        self.categories = self.load_categories()
        self.outlets, self.people = self.load_sources(pool)
        self.tags = self.load_tags(pool.tags)

    def load_authors(self, names):
        User = get_user_model()
        wanted = {PREFIX + slugify(name).replace("-", "."): name for name in names}
        have = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
        missing = [
            User(
                username=username,
                first_name=name.split()[0],
                last_name=name.split()[1],
                email=f"{username}@bench.example",
                password=make_password(None),
            )
            for username, name in wanted.items()
            if username not in have
        ]
        User.objects.bulk_create(missing)
        self.created["authors"] = len(missing)
        return list(User.objects.filter(username__in=wanted).order_by("username"))

    def load_categories(self):
        have = {c.slug: c for c in Category.objects.filter(slug__startswith=PREFIX)}
        for slug, name, parent in CATEGORIES:
            if PREFIX + slug not in have:
                category = Category.objects.create(
                    slug=PREFIX + slug,
                    name=name,
                    description=f"Bench section: {name.lower()}.",
                    parent=have.get(PREFIX + parent) if parent else None,
                )
                have[category.slug] = category
                self.created["categories"] += 1
        return [have[PREFIX + slug] for slug, _, _ in CATEGORIES]

    def load_sources(self, pool):
        # Names are unique whatever their case; with --force an editor's source of the same
        # name is quoted as it is.
        by_name = {source.name.casefold(): source for source in Source.objects.all()}
        outlets = self.load_source_rows(
            by_name,
            [
                Source(
                    name=name,
                    slug=PREFIX + slugify(name),
                    kind=Source.Kind.OUTLET,
                    url=f"https://{slugify(name).replace('-', '')}.example/",
                    aliases="\n".join(aliases),
                    description="A news outlet invented for benchmarks.",
                )
                for name, aliases in pool.outlets
            ],
        )
        people = self.load_source_rows(
            by_name,
            [
                Source(
                    name=name,
                    slug=PREFIX + slugify(name),
                    kind=Source.Kind.PERSON,
                    aliases="\n".join(aliases),
                    description=description,
                    affiliation=by_name[outlet.casefold()] if outlet else None,
                )
                for name, aliases, outlet, description in pool.people
            ],
        )
        self.resolve_map = {}
        for source in outlets + people:
            for name in [source.name, *source.alias_list()]:
                self.resolve_map.setdefault(name.casefold(), source)
        return outlets, people

    def load_source_rows(self, by_name, wanted):
        missing = [source for source in wanted if source.name.casefold() not in by_name]
        for source in Source.objects.bulk_create(missing):
            by_name[source.name.casefold()] = source
        self.created["sources"] += len(missing)
        found = [by_name[source.name.casefold()] for source in wanted]
        for source, row in zip(found, wanted, strict=True):
            # Credit each person to the outlet in the pool (and load no affiliations).
            source.affiliation = row.affiliation
        return found

    def resolve(self, name, outlet_name=None):
        """The renderer's source lookup: a dict, so rendering creates no rows."""
        outlet = self.resolve_map[outlet_name.casefold()] if outlet_name else None
        return self.resolve_map[name.casefold()], outlet

    def load_tags(self, names):
        have = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
        slugs = [slugify(name) for name in names]
        taken = set(Tag.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        missing = [
            Tag(name=name, slug=slugify(name))
            for name in names
            if name not in have and slugify(name) not in taken
        ]
        Tag.objects.bulk_create(missing)
        self.created["tags"] = len(missing)
        tags = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
        return [tags[name] for name in names if name in tags]

    # --- Texts: a few hundred distinct bodies, each rendered once -------------------------

    def prepare_texts(self, count):
        writer = self.writer = Writer(self.rng, self.outlets, self.people)
        # Each distinct text is rendered once and shared by every row that uses it; a few
        # hundred bodies are variety enough, and a small run renders only a few.
        size = min(300, max(12, count // 3))
        updates = size // 6 + 10
        self.stdout.write(f"Rendering {size + 2} bodies and {2 * updates + 6} updates…")
        quote_counts = [0, 1, 1, 2, 2, 2, 2, 3, 3, 4]  # about two per post
        self.bodies = [
            self.rendered(writer.body(quote_counts[i % 10], developing=i % 5 == 2))
            for i in range(size)
        ]
        self.developing_bodies = self.bodies[2::5]
        self.typical = self.rendered(writer.body(2, nested=False))
        self.live = self.rendered(writer.body(2, developing=True, nested=False))
        self.quoted_updates = [self.text(writer.update(quoted=True)) for _ in range(updates)]
        self.plain_updates = [self.text(writer.update(quoted=False)) for _ in range(updates)]
        self.corrections = [self.text(writer.correction()) for _ in range(6)]

    def rendered(self, made):
        markdown, topic, excerpt = made
        return Rendered(markdown, self.resolve, topic, excerpt)

    def text(self, markdown):
        return Rendered(markdown, self.resolve)

    # --- Posts, in batches --------------------------------------------------------------

    def plan(self, count):
        """(slug, role, published_at) for each new post, oldest first."""
        rng, now = self.rng, timezone.now().replace(second=0, microsecond=0)
        plan = []
        for slug in (TYPICAL_SLUG, LIVE_SLUG):
            if len(plan) < count and not Post.objects.filter(slug=slug).exists():
                plan.append((slug, slug, None))  # dated when created, close to now
        regular = count - len(plan)
        roles = ["draft"] * max(1, regular // 100)
        roles += ["scheduled"] * min(20, max(1, regular // 200))
        roles += ["open"] * min(3, max(1, regular // 20))
        roles += ["closed"] * max(1, regular // 1000)
        roles = roles[:regular] + ["post"] * (regular - len(roles))
        rng.shuffle(roles)
        # Spread over six years, so year and month archives look like a real site's.
        minutes_ago = sorted(
            (rng.randrange(180, 6 * 365 * 24 * 60) for _ in range(regular)), reverse=True
        )
        plan += [
            (None, role, now - timedelta(minutes=minutes))
            for role, minutes in zip(roles, minutes_ago, strict=True)
        ]
        return plan

    def create_posts(self, count):
        plan = self.plan(count)
        slugs = set()
        if Post.objects.exists():
            slugs = set(Post.objects.values_list("slug", flat=True))
        self.number = Post.objects.filter(author__username__startswith=PREFIX).count()
        self.post_type = ContentType.objects.get_for_model(Post)
        self.progress(0, count)
        for start in range(0, count, BATCH):
            with transaction.atomic():
                self.create_batch(plan[start : start + BATCH], slugs)
            self.progress(min(start + BATCH, count), count)
        self.stdout.write("")

    def create_batch(self, plan, slugs):
        rng, now = self.rng, timezone.now().replace(second=0, microsecond=0)
        posts, texts, threads = [], [], []
        for pk, (slug, role, published_at) in zip(reserve_ids(Post, len(plan)), plan, strict=True):
            text = rng.choice(self.bodies)
            status = Post.Status.PUBLISHED
            if role == TYPICAL_SLUG:
                text, published_at = self.typical, now - timedelta(hours=26)
            elif role == LIVE_SLUG:
                # Its last update is five minutes old.
                published_at = now - timedelta(minutes=3 * LIVE_UPDATES + 5)
                text = self.live
            elif role == "open":
                text = rng.choice(self.developing_bodies)
                published_at = now - timedelta(minutes=rng.randint(90, 48 * 60))
            elif role == "scheduled":
                published_at = now + timedelta(minutes=rng.randint(60, 14 * 24 * 60))
            elif role == "draft":
                status, published_at = Post.Status.DRAFT, None
            title = self.writer.title(text.topic)
            if slug is None:
                self.number += 1
                slug = f"{slugify(title)[:180]}-{self.number}"
                while slug in slugs:
                    self.number += 1
                    slug = f"{slugify(title)[:180]}-{self.number}"
            slugs.add(slug)
            post = Post(
                pk=pk,
                title=title,
                slug=slug,
                author=rng.choice(self.authors),
                category=rng.choice(self.categories),
                excerpt=text.excerpt,
                body=text.markdown,
                body_html=text.html,
                status=status,
                published_at=published_at,
                is_developing=role in ("open", LIVE_SLUG),
                guid=tag_uri("post", pk, published_at) if published_at else "",
            )
            posts.append(post)
            texts.append(text)
            if role in ("open", "closed", LIVE_SLUG):
                threads.append(post)
            self.created["posts"] += 1
            self.created["scheduled"] += role == "scheduled"
            self.created["drafts"] += role == "draft"
        self.created["developing"] += sum(post.is_developing for post in threads)
        self.created["closed threads"] += sum(not post.is_developing for post in threads)
        updates = [u for post in threads for u in self.thread(post, now)]
        for pk, (update, _) in zip(reserve_ids(Update, len(updates)), updates, strict=True):
            update.pk, update.guid = pk, tag_uri("update", pk, update.published_at)
        Post.objects.bulk_create(posts, batch_size=BATCH)
        Update.objects.bulk_create([update for update, _ in updates], batch_size=BATCH)
        rows = [
            (post.pk, None, post.published_at, text)
            for post, text in zip(posts, texts, strict=True)
        ]
        rows += [(u.post_id, u.pk, u.published_at, text) for u, text in updates]
        quotes = [
            Quote(
                post_id=post_id,
                update_id=update_id,
                source_id=source_id,
                text=quoted,
                url=url,
                attribution=attribution,
                position=position,
                published_at=published_at,
            )
            for post_id, update_id, published_at, text in rows
            for position, (source_id, quoted, url, attribution) in enumerate(text.quotes, 1)
        ]
        Quote.objects.bulk_create(quotes, batch_size=BATCH)
        self.created["quotes"] += len(quotes)
        self.tag(posts)
        # bulk_create skips save(), which keeps search current: index the batch here.
        search.refresh([post.pk for post in posts])

    def thread(self, post, now):
        """A post's updates, with their rendered texts: a developing story's timeline."""
        rng = self.rng
        latest = now - timedelta(minutes=1)
        if post.slug == LIVE_SLUG:
            # One update every three minutes; the quotes land on LIVE_QUOTES in all.
            corrections = {LIVE_UPDATES // 3, 2 * LIVE_UPDATES // 3}
            others = [n for n in range(LIVE_UPDATES) if n not in corrections]
            quoted = set(rng.sample(others, LIVE_QUOTES - len(self.live.quotes)))
            texts = [
                rng.choice(self.corrections)
                if n in corrections
                else rng.choice(self.quoted_updates if n in quoted else self.plain_updates)
                for n in range(LIVE_UPDATES)
            ]
            offsets = [3 * (n + 1) for n in range(LIVE_UPDATES)]
        else:
            texts = [
                rng.choice(self.corrections)
                if rng.random() < 0.1
                else rng.choice(self.quoted_updates if rng.random() < 0.3 else self.plain_updates)
                for _ in range(rng.randint(2, 12))
            ]
            # Within three days of the post, and none in the future.
            span = min(3 * 24 * 60, int((latest - post.published_at).total_seconds() // 60))
            offsets = sorted(rng.randint(min(5, span), span) for _ in texts)
        updates = []
        for text, offset in zip(texts, offsets, strict=True):
            when = post.published_at + timedelta(minutes=offset)
            update = Update(
                post_id=post.pk,
                body=text.markdown,
                body_html=text.html,
                kind=Update.Kind.CORRECTION if text in self.corrections else Update.Kind.UPDATE,
                published_at=when,
                author=post.author if rng.random() < 0.8 else rng.choice(self.authors),
            )
            updates.append((update, text))
            self.created["updates"] += 1
            self.created["corrections"] += update.kind == Update.Kind.CORRECTION
        if not post.is_developing:
            post.developing_ended_at = min(when + timedelta(hours=1), latest)
        return updates

    def tag(self, posts):
        rng = self.rng
        cum_weights = list(accumulate(1 / (rank + 1) for rank in range(len(self.tags))))
        items = []
        for post in posts:
            wanted = rng.randint(2, 3) if post.slug == TYPICAL_SLUG else rng.randint(1, 4)
            chosen = set()
            while len(chosen) < wanted:
                chosen.add(rng.choices(self.tags, cum_weights=cum_weights)[0].pk)
            items += [
                TaggedItem(tag_id=tag, content_type_id=self.post_type.pk, object_id=post.pk)
                for tag in chosen
            ]
        TaggedItem.objects.bulk_create(items, batch_size=BATCH)
        self.created["tag links"] += len(items)

    def progress(self, done, total, width=30):
        filled = width * done // total if total else width
        percent = 100 * done // total if total else 100
        bar = "#" * filled + "." * (width - filled)
        self.stdout.write(f"\rposts {done:>9,}/{total:,} [{bar}] {percent}%", ending="")
        self.stdout.flush()
