from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.flatpages.models import FlatPage
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from blog.models import Category, Post, Quote, Source, Update

# Everything below is invented: Harbor City, its outlets and its people do not exist.

AUTHORS = [
    {
        "username": "maria.okafor",
        "first_name": "Maria",
        "last_name": "Okafor",
        "email": "maria.okafor@dateline.example",
    },
    {
        "username": "tom.lindqvist",
        "first_name": "Tom",
        "last_name": "Lindqvist",
        "email": "tom.lindqvist@dateline.example",
    },
]

# Parents before their children.
CATEGORIES = [
    {
        "slug": "politics",
        "name": "Politics",
        "description": "Who runs Harbor City, and how.",
    },
    {
        "slug": "city-hall",
        "name": "City Hall",
        "parent": "politics",
        "description": "The mayor, the council and the budget.",
    },
    {
        "slug": "world",
        "name": "World",
        "description": "What happens beyond the harbour wall, and why it matters here.",
    },
    {
        "slug": "economy",
        "name": "Economy",
        "description": "Work, rent, shops and the port.",
    },
]

# Outlets before the people affiliated to them.
SOURCES = [
    {
        "slug": "harbor-tribune",
        "name": "The Harbor Tribune",
        "kind": Source.Kind.OUTLET,
        "url": "https://tribune.example/",
        "aliases": ["The Tribune", "Harbor Tribune", "Tribune"],
        "description": "Harbor City's morning daily, founded by a shipping clerk in 1891.",
    },
    {
        "slug": "bayside-ledger",
        "name": "The Bayside Ledger",
        "kind": Source.Kind.OUTLET,
        "url": "https://ledger.example/",
        "aliases": ["The Ledger", "Bayside Ledger", "Ledger"],
        "description": "A weekly with a sharp opinion section and a long memory.",
    },
    {
        "slug": "harbor-public-radio",
        "name": "Harbor Public Radio",
        "kind": Source.Kind.OUTLET,
        "url": "https://hpr.example/",
        "aliases": ["HPR"],
        "description": "The city's listener-funded news station.",
    },
    {
        "slug": "meridian-wire",
        "name": "Meridian Wire Service",
        "kind": Source.Kind.OUTLET,
        "url": "https://meridianwire.example/",
        "aliases": ["Meridian Wire", "Meridian"],
        "description": "An international news agency with a bureau on every coast of the strait.",
    },
    {
        "slug": "harbor-business-journal",
        "name": "Harbor Business Journal",
        "kind": Source.Kind.OUTLET,
        "url": "https://hbj.example/",
        "aliases": ["HBJ", "The Business Journal"],
        "description": "Trade news for the port, the waterfront and the people who invest in them.",
    },
    {
        "slug": "dana-reyes",
        "name": "Dana Reyes",
        "kind": Source.Kind.PERSON,
        "affiliation": "harbor-tribune",
        "description": "City-hall reporter at the Tribune; counts council votes for a living.",
    },
    {
        "slug": "oskar-vance",
        "name": "Oskar Vance",
        "kind": Source.Kind.PERSON,
        "affiliation": "bayside-ledger",
        "aliases": ["O. Vance"],
        "description": "Columnist at the Ledger, mostly on housing and money.",
    },
    {
        "slug": "ruth-abara",
        "name": "Ruth Abara",
        "kind": Source.Kind.PERSON,
        "affiliation": "harbor-public-radio",
        "description": "Transport and city reporter at Harbor Public Radio.",
    },
    {
        "slug": "ines-albrecht",
        "name": "Ines Albrecht",
        "kind": Source.Kind.PERSON,
        "affiliation": "meridian-wire",
        "description": "Meridian Wire's correspondent on the Tessaly Strait.",
    },
    {
        "slug": "priya-natarajan",
        "name": "Priya Natarajan",
        "kind": Source.Kind.PERSON,
        "url": "https://econ.harborstate.example/natarajan",
        "description": "Housing economist at Harbor State University.",
    },
    {
        "slug": "marcus-hale",
        "name": "Marcus Hale",
        "kind": Source.Kind.PERSON,
        "description": "Councillor for Ward 4 and chair of the council's finance committee.",
    },
    {
        "slug": "lena-brandt",
        "name": "Lena Brandt",
        "kind": Source.Kind.PERSON,
        "description": "Deputy mayor of Harbor City, in charge of the budget.",
    },
    {
        "slug": "joanne-kessler",
        "name": "Joanne Kessler",
        "kind": Source.Kind.PERSON,
        "aliases": ["Jo Kessler"],
        "description": "Secretary of the Harbor City dockworkers' union local.",
    },
]

BUDGET_BODY = """\
The council was supposed to vote on next year's budget tonight. It won't. After a closed-door
session that ran well past the dinner break, the council president postponed the vote to "a date
to be announced", which in Harbor City usually means at least a week.

The short version is that nobody has seven votes. So says the Tribune's city-hall reporter, who
has been counting heads all month:

> The council is divided three ways, and none of the three camps has the votes on its own. The
> transit bloc wants the bus cuts reversed, the fiscal hawks want the reserve fund left alone, and
> the mayor's allies want the whole thing passed before the holidays.
>
> — Dana Reyes, The Tribune

From the Ledger, which has a slightly different count:

> Two members told us they would not support any budget that cuts the night bus routes, whatever
> else is in it.
>
> — [The Ledger](https://ledger.example/2026/11/council-split)

That matters, because the mayor's draft does exactly that. The chair of the finance committee was
blunt when he came out of the session:

> We are not going to balance this on the backs of people who clean the hospital at two in the
> morning. Find the money somewhere else.
>
> — Marcus Hale

The mayor's office is calling the delay routine. I don't think it is. This is the first time in
six years that a Harbor City budget has missed its first scheduled vote, and the reserve fund the
hawks want to protect is the same one the administration has been drawing down since spring.

More as it develops…
"""

BUDGET_UPDATES = [
    {
        "after": timedelta(hours=3),
        "author": "maria.okafor",
        "body": """\
The deputy mayor stopped briefly for reporters on her way out of the building:

> We'll have a budget. We always have a budget. The question is whether the council wants to own
> the consequences of the one it writes itself.
>
> ― Lena Brandt

That is a long way from "routine".
""",
    },
    {
        "after": timedelta(hours=7),
        "author": "tom.lindqvist",
        "body": """\
Where could the money come from? Harbor Public Radio's transport reporter has been asking:

> Two members of the transit bloc say they have found part of the gap in the parking authority's
> surplus. When I asked the finance chair whether that would be enough, he was careful:
>
> > It's a start. It is not four million dollars.
> >
> > — Marcus Hale
>
> The parking authority has not commented.
>
> -- Ruth Abara, Harbor Public Radio

Four million is roughly what the night routes cost a year, so that is the number to watch.
""",
    },
    {
        "after": timedelta(hours=26),
        "author": "maria.okafor",
        "kind": Update.Kind.CORRECTION,
        "body": """\
**Correction:** this post said the budget had not missed its first scheduled vote in six years.
It also slipped in 2022, by two days. Thanks to the reader who wrote in; the point stands, the
number did not.
""",
    },
    {
        "after": timedelta(hours=30),
        "author": "maria.okafor",
        "body": """\
There is a new date: next Tuesday, at six. From the Tribune:

> The president's office says the extra week is for "conversations, not amendments", which
> several members read as a sign that the night-bus cuts are back on the table.
>
> — Dana Reyes, [The Tribune](https://tribune.example/2026/11/budget-vote-tuesday)
""",
    },
]

PREVIEW_BODY = """\
Tonight the council tries again. Here is what to watch, in the order it will happen.

1. **The night buses.** If the transit bloc's amendment is taken first, the rest is easy.
2. **The reserve fund.** The hawks want a floor written into the budget itself.
3. **The clock.** Under the charter, a budget not passed by the fifteenth rolls over.

The finance chair, asked on Friday whether he was confident:

> Confident is a strong word. Ask me at nine.
>
> — Marcus Hale
"""

WATERFRONT_BODY = """\
The new waterfront rules took effect on Monday, and the first complaint arrived before lunch. They
cap the number of delivery slots on the promenade at twelve an hour, which is fine for the
restaurants and hard on everyone who sells anything heavier than a sandwich.

The Business Journal has the numbers:

> Of the 214 businesses along the promenade, 61 depend on daily deliveries. The city's own impact
> study, published in August, estimated that a third of them would need to move deliveries to the
> early morning.
>
> — [Harbor Business Journal](https://hbj.example/2026/11/promenade-delivery-slots)

Moving deliveries to five in the morning sounds simple until you are the one paying a driver
overtime. A hardware-shop owner near the ferry terminal put it better than I can:

> I don't mind getting up early. My suppliers mind. One of them has already said he will stop
> coming.
>
> — Amal Sayegh

The rules are up for review in March. The shops will have to last that long.
"""

LEVY_BODY = """\
The transit levy is back, and so is the argument over what it would cost an ordinary household.
The campaign says "about a coffee a week". The opponents say "hundreds of dollars". Both are
technically true, and neither is useful.

Harbor Public Radio did the arithmetic properly:

> For a median household the levy works out at 41 dollars a year. For a household in the top
> tenth it is closer to 300, because it is charged on assessed value, not on use.
>
> — Ruth Abara, Harbor Public Radio

Which is why the economists I trust are less interested in the average than in the spread:

> A flat fare hits the people who ride the bus most. A levy on property hits the people who own
> the most property. Whether that is fair is a political question; the distribution itself is not
> in dispute.
>
> — Priya Natarajan

And from the Ledger's opinion page, the case against, made about as well as it can be:

> Nobody objects to buses. People object to paying twice, once at the farebox and again on the tax
> bill, for a service that still doesn't run after midnight.
>
> — Oskar Vance, The Ledger

That last point is the one the campaign has not answered, and it is the same one now holding up
the budget.
"""

PORT_BODY = """\
Dockworkers at the Harbor City container terminal walked out at the start of the morning shift,
after talks on the new shift rules broke down overnight. The cranes are still; the ships are not
leaving.

The union's secretary, speaking at the gate:

> We were told the new rota was about safety. Then we saw the spreadsheet. It is about cutting the
> night crew by a third.
>
> — Joanne Kessler

The terminal operator has not said how long it can hold the ships at anchor. The wire is already
reporting on the knock-on effects:

> Two carriers have begun diverting cargo bound for Harbor City to ports further up the coast,
> according to shipping schedules published on Tuesday.
>
> — [Meridian Wire](https://meridianwire.example/2026/10/harbor-city-port-strike)

More as it develops…
"""

PORT_UPDATES = [
    {
        "after": timedelta(hours=5),
        "author": "tom.lindqvist",
        "body": """\
Talks have resumed, with a mediator from the regional labour board. Neither side will say where.
""",
    },
    {
        "after": timedelta(days=1, hours=2),
        "author": "tom.lindqvist",
        "body": """\
There is a tentative deal. The Tribune has seen the outline:

> The night crew stays at its current size for two years, and the new rota is trialled on a
> single berth before it goes anywhere else.
>
> — Dana Reyes, The Tribune

Members vote tomorrow.
""",
    },
    {
        "after": timedelta(days=3, hours=1),
        "author": "tom.lindqvist",
        "body": """\
The members voted to accept, 71 per cent to 29. The cranes were moving again by mid-afternoon.

> Nobody gets everything. We got the night crew.
>
> — Jo Kessler

That closes this thread. Thanks to everyone who sent in photos from the gate.
""",
    },
]
PORT_CLOSED_AFTER = timedelta(days=3, hours=2)

STRAIT_BODY = """\
Talks between Korvia and Estmark on inspection rules for the Tessaly Strait have stalled for the
third time this year. This matters here more than it seems: roughly a fifth of what comes through
the Harbor City terminal has crossed the strait first.

Meridian's correspondent, who has covered every round, on why this one failed:

> The two delegations agreed on everything except who gets to board a ship, which is to say they
> agreed on nothing. Estmark wants joint inspection teams. Korvia says that is sovereignty by the
> back door.
>
> — Ines Albrecht, [Meridian Wire](https://meridianwire.example/2026/10/strait-talks-stall)

Closer to home, HPR asked the terminal what a longer stalemate would mean:

> The terminal operator says each extra day of inspection delays in the strait adds about six
> hours to the queue at the Harbor City berths.
>
> ― HPR

Six hours a day adds up. We will be watching the next round, due in the new year.
"""

RENTS_BODY = """\
Rents in Harbor City rose nine per cent last year. Wages rose three. Everyone knows those two
numbers; fewer people can explain the gap. I asked someone who can.

> The first thing to understand is that most of the increase came from a small number of
> neighbourhoods near the new ferry routes. Elsewhere rents rose roughly in line with wages.
>
> The second is that the city has permitted about half as many homes as it did ten years ago,
> while the number of households grew by a fifth. When supply is that tight, the best-connected
> neighbourhoods set the pace for everyone else.
>
> The third is the one nobody likes: this was predictable. The housing plan of 2019 said so on
> page forty.
>
> — Priya Natarajan

The Ledger's columnist, who has been writing about this for longer than I have, is less patient:

> Every council since 2019 has read page forty. None of them has turned to page forty-one, where
> the plan explains what to do about it.
>
> — O. Vance, The Ledger

What is on page forty-one? Mostly zoning. We will come back to it.
"""

FERRY_BODY = """\
In the middle of a week dominated by the council, an agreement that will shape the waterfront for
a decade passed almost without comment: the new ferry treaty between Harbor City and Estmark's
port authority.

The wire carried three paragraphs. The key one:

> The agreement doubles the number of scheduled crossings from next spring and commits both sides
> to shared pier fees for ten years.
>
> — Meridian Wire

Estmark's side was more forthcoming than ours:

> We expect the crossings to pay for themselves within four years, and the pier fees to fall
> after that.
>
> — Tomas Reinholt

Ten years of fixed pier fees is a long promise. Our own port authority has not published its
estimate. It should.
"""

MAYOR_BODY = """\
A year ago the mayor promised three things: a budget on time, buses after midnight and an open
city hall. I asked the people who cover her how she has done.

From the Tribune's city-hall reporter:

> On the budget, so far so good; ask me again in a month. On openness, the press office answers
> faster than the last one did, and says less.
>
> — Dana Reyes, The Tribune

From the HPR newsroom:

> The night buses are the promise she talks about most and has done least about. The pilot route
> ran for six weeks and was quietly dropped in June.
>
> — Ruth Abara, Harbor Public Radio

And from the Ledger, never a friend of any mayor:

> She is better than her first hundred days and worse than her speeches. That is about par.
>
> — Oskar Vance, The Ledger

My own grade: a B for the budget, a C for openness and, until the night buses run, an incomplete.
"""

DRAFT_BODY = """\
Notes for a piece on library opening hours, which the draft budget cuts by a day a week.

> Closed on Mondays, like a museum.

That line came from a reader's email; ask whether we may quote her by name before publishing.
"""

POSTS = [
    {
        "slug": "city-budget-update-council-split-vote-delayed",
        "title": "City budget update: council split, vote delayed",
        "author": "maria.okafor",
        "category": "city-hall",
        "tags": ["budget", "council", "transit"],
        "excerpt": "No camp on the council has the votes, so the budget vote is off until further "
        "notice.",
        "body": BUDGET_BODY,
        "published": -timedelta(days=2, hours=4),
        "is_developing": True,
        "updates": BUDGET_UPDATES,
    },
    {
        "slug": "budget-vote-what-to-watch",
        "title": "The budget vote, explained: what to watch on Tuesday",
        "author": "maria.okafor",
        "category": "city-hall",
        "tags": ["budget", "council"],
        "excerpt": "Night buses, the reserve fund and the clock.",
        "body": PREVIEW_BODY,
        "published": timedelta(days=3),
    },
    {
        "slug": "waterfront-delivery-rules",
        "title": "Small shops and the new waterfront delivery rules",
        "author": "tom.lindqvist",
        "category": "economy",
        "tags": ["small business", "waterfront"],
        "excerpt": "Twelve delivery slots an hour suits the cafés. It does not suit the hardware "
        "shop.",
        "body": WATERFRONT_BODY,
        "published": -timedelta(days=4, hours=2),
    },
    {
        "slug": "transit-levy-what-the-numbers-say",
        "title": "Transit levy: what the numbers actually say",
        "author": "maria.okafor",
        "category": "city-hall",
        "tags": ["transit", "budget", "taxes"],
        "excerpt": "Forty-one dollars a year for the median household, and why the spread matters "
        "more than the average.",
        "body": LEVY_BODY,
        "published": -timedelta(days=9, hours=6),
    },
    {
        "slug": "port-strike-dockworkers-walk-out",
        "title": "Port strike: dockworkers walk out over shift rules",
        "author": "tom.lindqvist",
        "category": "economy",
        "tags": ["port", "labour", "strike"],
        "excerpt": "The container terminal stopped at the start of the morning shift.",
        "body": PORT_BODY,
        "published": -timedelta(days=21, hours=3),
        "is_developing": True,
        "updates": PORT_UPDATES,
        "closed_after": PORT_CLOSED_AFTER,
    },
    {
        "slug": "strait-shipping-talks-stall",
        "title": "Strait shipping talks stall over who may board a ship",
        "author": "tom.lindqvist",
        "category": "world",
        "tags": ["shipping", "tessaly strait", "port"],
        "excerpt": "Korvia and Estmark agree on everything except inspections, which is to say "
        "nothing.",
        "body": STRAIT_BODY,
        "published": -timedelta(days=30, hours=5),
    },
    {
        "slug": "why-rents-rose-faster-than-wages",
        "title": "Why Harbor City rents rose faster than wages",
        "author": "maria.okafor",
        "category": "economy",
        "tags": ["housing", "rents", "wages"],
        "excerpt": "Nine per cent against three, and the page of the housing plan that saw it "
        "coming.",
        "body": RENTS_BODY,
        "published": -timedelta(days=38, hours=1),
    },
    {
        "slug": "the-ferry-treaty-nobody-noticed",
        "title": "The ferry treaty nobody noticed",
        "author": "tom.lindqvist",
        "category": "world",
        "tags": ["ferries", "estmark", "waterfront"],
        "excerpt": "Twice the crossings and ten years of fixed pier fees, agreed in a busy week.",
        "body": FERRY_BODY,
        "published": -timedelta(days=47, hours=7),
    },
    {
        "slug": "the-mayors-first-year-graded",
        "title": "The mayor's first year, graded by the people who cover her",
        "author": "maria.okafor",
        "category": "politics",
        "tags": ["mayor", "transit"],
        "excerpt": "Three promises, three reporters, one incomplete.",
        "body": MAYOR_BODY,
        "published": -timedelta(days=58, hours=2),
    },
    {
        "slug": "notes-library-hours",
        "title": "Notes: library hours and the budget",
        "author": "tom.lindqvist",
        "category": "city-hall",
        "tags": ["budget", "libraries"],
        "excerpt": "",
        "body": DRAFT_BODY,
        "published": None,
    },
]

# Static pages (django.contrib.flatpages), shown at their address on the one site.
PAGES = [
    {
        "url": "/about/",
        "title": "About this site",
        "content": (
            "<p>Commentary and news about Harbor City, a place that does not exist: every "
            "person, outlet and story here is invented, to show what Dateline does.</p>"
            "<p>Each quote names who said it and links to where they said it. Stories that "
            "are still developing keep an open thread of updates, and corrections are "
            '<a href="/corrections/">listed in one place</a>.</p>'
        ),
    },
]


class Command(BaseCommand):
    help = (
        "Load sample content about a fictional Harbor City: posts, sources, quotes and a "
        "developing story. Running it again creates nothing, and existing content is never "
        "changed."
    )

    def handle(self, *args, **options):
        counted = [Post, Update, Source, Quote, Category, FlatPage, get_user_model()]
        before = {model: model.objects.count() for model in counted}
        with transaction.atomic():
            authors = self.load_authors()
            categories = self.load_categories()
            self.load_sources()
            now = timezone.now()
            now -= timedelta(
                minutes=now.minute % 5, seconds=now.second, microseconds=now.microsecond
            )
            self.load_posts(authors, categories, now)
            self.load_pages()
        created = {model: model.objects.count() - before[model] for model in counted}
        if not any(created.values()):
            self.stdout.write("Demo content already loaded; nothing to do.")
            return
        summary = ", ".join(
            f"{count} {model._meta.verbose_name_plural}"
            for model, count in created.items()
            if count
        )
        self.stdout.write(self.style.SUCCESS(f"Demo content created: {summary}."))

    def load_authors(self):
        User = get_user_model()
        authors = {}
        for data in AUTHORS:
            user, created = User.objects.get_or_create(
                username=data["username"],
                defaults={
                    "first_name": data["first_name"],
                    "last_name": data["last_name"],
                    "email": data["email"],
                    "is_staff": True,
                },
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            authors[user.username] = user
        return authors

    def load_categories(self):
        categories = {}
        for data in CATEGORIES:
            category = Category.objects.filter(slug=data["slug"]).first()
            if category is None:
                category = Category.objects.create(
                    slug=data["slug"],
                    name=data["name"],
                    description=data["description"],
                    parent=categories.get(data.get("parent")),
                )
            categories[category.slug] = category
        return categories

    def load_sources(self):
        sources = {}
        for data in SOURCES:
            # An editor may already have this source under another slug: use theirs as it is.
            source = Source.objects.filter(slug=data["slug"]).first() or Source.objects.named(
                data["name"]
            )
            if source is None:
                source = Source.objects.create(
                    slug=data["slug"],
                    name=data["name"],
                    kind=data["kind"],
                    url=data.get("url", ""),
                    affiliation=sources.get(data.get("affiliation")),
                    aliases="\n".join(data.get("aliases", [])),
                    description=data["description"],
                )
            sources[data["slug"]] = source

    def load_pages(self):
        for data in PAGES:
            if not FlatPage.objects.filter(url=data["url"]).exists():
                # The site migrate made; its domain names no address (see settings.SITE_ID).
                FlatPage.objects.create(**data).sites.add(settings.SITE_ID)

    def load_posts(self, authors, categories, now):
        for data in POSTS:
            if Post.objects.filter(slug=data["slug"]).exists():
                continue
            published_at = now + data["published"] if data["published"] is not None else None
            post = Post(
                slug=data["slug"],
                title=data["title"],
                author=authors[data["author"]],
                category=categories[data["category"]],
                excerpt=data["excerpt"],
                body=data["body"],
                status=Post.Status.PUBLISHED if published_at else Post.Status.DRAFT,
                published_at=published_at,
                is_developing=data.get("is_developing", False),
            )
            post.save()
            post.tags.add(*data["tags"])
            # Updates only with a post created just now: an existing post is an editor's.
            for update in data.get("updates", []):
                Update.objects.create(
                    post=post,
                    author=authors[update["author"]],
                    kind=update.get("kind", Update.Kind.UPDATE),
                    body=update["body"],
                    published_at=published_at + update["after"],
                )
            if "closed_after" in data:
                post.is_developing = False
                post.developing_ended_at = published_at + data["closed_after"]
                post.save(update_fields=["is_developing", "developing_ended_at"])
