"""What the live demo site publishes, and when: a deterministic schedule of stories.

Nothing here knows about HTTP or HTML (:mod:`crawler.demo.livepages` renders,
:mod:`crawler.demo.live` serves). A :class:`Schedule` is a pure function of its
``seed``, ``start`` and ``publish_every``: two sites built with the same three
publish the same stories at the same instants, which is what lets
``benchmarks/freshness.py`` compare two crawlers on two identical sites.

The site opens with a backlog (:data:`BACKLOG_AGES`: stories published hours
or days before ``start``), then story ``k`` (0, 1, ...) goes live at
``start + floor((k + 1) * publish_every)``: whole seconds, so that an HTTP date
(one-second resolution) names every change of a hub exactly. New stories come
in cycles of :data:`CYCLE` slots, each cycle holding one story of each
one-path kind (:data:`ONLY_KINDS`):

* ``"more"``: linked only from the "More <Section>" block of the next story,
  published ``publish_every`` later in the same section;
* ``"front"``: listed only on the front of :data:`FRONT_ONLY_SECTION`, the
  section without a feed;
* ``"news-sitemap"``: listed only in the Google News sitemap.

Every other story is listed on the home page, its section's front and feeds,
both sitemaps, and the "More" blocks of later stories of its section.
"""

from __future__ import annotations

import math
import random
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = [
    "BACKLOG_AGES",
    "CYCLE",
    "FEEDS",
    "FRONT_ONLY_SECTION",
    "LIVE_SECTIONS",
    "ONLY_KINDS",
    "SITE_ZONE",
    "LiveStory",
    "Schedule",
]

#: The sections of the live site (their names are :data:`crawler.demo.content.SECTIONS`').
LIVE_SECTIONS = ("biz", "tech", "culture")
#: Section -> its feeds, as (format, path): "rss" (RSS 2.0) or "atom" (Atom 1.0).
FEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "biz": (("rss", "/biz/feed.rss"),),
    "tech": (("rss", "/tech/feed.rss"), ("atom", "/tech/feed.atom")),
    "culture": (),
}
#: The section without a feed, whose front is the only path to its "front" stories.
FRONT_ONLY_SECTION = "culture"
#: The one-path kinds: where the only link to such a story is.
ONLY_KINDS = ("more", "front", "news-sitemap")
#: The slots of one cycle of new stories: None is an ordinary story; "host"
#: is an ordinary story whose "More" block holds the "more" story just before it.
CYCLE = (None, "more", "host", "front", None, "news-sitemap")
#: Ages in hours of the stories already published when the site starts (oldest
#: first; sections in turn): the three oldest are past the news sitemap's two days.
BACKLOG_AGES = (72, 60, 50, 40, 30, 20, 12, 8, 6, 4, 3, 2, 1.5, 1, 0.75, 0.5, 0.33, 0.17)
#: The site's own time zone, in which its pages print dates (an offset, not UTC).
SITE_ZONE = timezone(timedelta(hours=-4))

_FIRSTS = ("Ada", "Bruno", "Chiara", "Dev", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
           "Kemi", "Luca", "Mara", "Nils", "Oona", "Pavel", "Rosa", "Sami", "Tova", "Umar")
_LASTS = ("Abbott", "Brandt", "Castillo", "Dorsey", "Ekwueme", "Falk", "Gallo", "Hayes", "Ibarra",
          "Jansen", "Kowal", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn",
          "Reyes", "Sato", "Tanaka")
_PLACES = ("Harborview", "Ashford", "Millbrook", "Port Elden", "Crestline", "Dunmore", "Larkspur",
           "Redwater", "Stonebridge", "Westhollow", "Fairhaven", "Kingsmere", "Oakridge", "Brightwater")
_SUBJECTS = {
    "biz": ("freight cooperative", "regional bank", "solar installer", "grocery chain",
            "shipping line", "furniture maker", "coffee roaster", "credit union", "brewery",
            "textile mill", "insurance broker", "bakery franchise"),
    "tech": ("chip designer", "battery startup", "open-source database", "drone maker",
             "satellite operator", "payments app", "robotics lab", "cloud provider",
             "browser project", "sensor company", "mapping service", "compiler team"),
    "culture": ("chamber orchestra", "poetry festival", "film archive", "street theatre",
                "jazz quartet", "photography museum", "ballet company", "folk choir",
                "comic artist", "puppet troupe", "community radio station", "literary magazine"),
}
_ACTIONS = {
    "biz": ("raises prices", "opens a second warehouse", "cuts its dividend", "hires 200 workers",
            "agrees to a merger", "settles a pricing dispute", "posts record profit",
            "delays its expansion", "buys a rival", "wins a port contract"),
    "tech": ("ships a new release", "recalls a faulty model", "open-sources its toolkit",
             "passes a safety audit", "doubles its battery life", "loses a patent case",
             "moves to a new campus", "signs a city contract", "fixes a data leak",
             "launches a test flight"),
    "culture": ("announces its new season", "restores a lost reel", "wins a national prize",
                "returns to the old hall", "tours the coast", "opens a free exhibition",
                "loses its rehearsal space", "commissions a new work", "celebrates fifty years",
                "adds a winter festival"),
}
_NOUNS = ("council", "harbor", "budget", "audience", "warehouse", "schedule", "library", "market",
          "license", "contract", "network", "workshop", "pension", "storm", "bridge", "archive",
          "season", "ferry", "rent", "permit", "school", "garden", "railway", "clinic")
_ADJECTIVES = ("cautious", "sudden", "long-awaited", "modest", "strange", "costly", "quiet",
               "bold", "narrow", "hasty", "sweeping", "temporary", "careful", "late")
_SENTENCES = (
    "{person} said the {adj} decision surprised almost everyone in {place}.",
    "The {noun} in {place} had been under pressure since {month}, according to {person}.",
    "Nobody at the {noun} meeting expected {number} people to turn up on a {day}.",
    "{person}, who has followed the {subject} for {years} years, called it a {adj} step.",
    "Figures shared on {day} show {number} orders, up from {small} a year ago.",
    "Critics in {place} warned that the {noun} could not absorb another {adj} change.",
    "Officials plan to review the {noun} again in {month}, {person} confirmed.",
    "A spokesperson for the {subject} declined to name the {noun} involved.",
    "Residents of {place} lined up outside the {noun} before dawn on {day}.",
    "The plan depends on a {adj} {noun} agreement that {person} negotiated in {month}.",
    "{person} pointed to {number} letters from neighbors as proof of support.",
    "Analysts compared the move with a {adj} episode in {place} {years} years ago.",
    "Several staff members said the {noun} would close for {small} weeks in {month}.",
    "The {subject} first drew attention in {place} with a {adj} {noun} campaign.",
    "Local papers in {place} have covered the {noun} dispute since {month}.",
    "{person} expects the {noun} to cost about {number} dollars more than planned.",
    "On {day} evening the {subject} posted a {adj} note about the {noun} online.",
    "Some of the {number} members voted against the {noun} proposal, {person} said.",
    "The {adj} timetable leaves {small} months for a second {noun} review.",
    "Supporters say {place} needs the {noun} more than ever after a {adj} winter.",
)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class LiveStory:
    """One story of the live site.

    ``number`` orders every story (backlog first); ``live_at`` is when it went
    (or goes) live, in unix seconds, and its ``published`` time on the page.
    ``only`` is None for an ordinary story, else its one path (:data:`ONLY_KINDS`);
    ``linked_from`` is, for a "more" story, the number of the one story whose
    "More" block links it. ``backlog`` stories were published before the site started.
    """

    number: int
    section: str
    slug: str
    headline: str
    author: str
    paragraphs: tuple[str, ...]
    live_at: float
    only: str | None = None
    linked_from: int | None = None
    backlog: bool = False

    @property
    def path(self) -> str:
        return f"/{self.section}/{self.slug}.html"

    @property
    def published(self) -> str:
        """``live_at`` as ISO 8601 in the site's zone (with its offset), to the second."""
        return datetime.fromtimestamp(self.live_at, SITE_ZONE).isoformat(timespec="seconds")

    @property
    def paths(self) -> frozenset[str]:
        """The discovery paths (``discovered_via`` values) that lead to this story."""
        if self.only:
            return frozenset((self.only,))
        kinds = {"home", "front", "sitemap", "news-sitemap", "more"}
        if FEEDS[self.section]:
            kinds.add("feed")
        return frozenset(kinds)


class Schedule:
    """The stories of one live site: :attr:`backlog`, then new ones made on demand.

    ``start`` is rounded up to a whole second; ``publish_every`` (seconds, at
    least 1) is the gap between two new stories. Thread-safe.
    """

    def __init__(self, *, seed: int, start: float, publish_every: float) -> None:
        if not publish_every >= 1:
            raise ValueError(f"publish_every must be at least 1 second, not {publish_every!r}")
        self.seed = seed
        self.start = float(math.ceil(start))
        self.publish_every = float(publish_every)
        self._lock = threading.Lock()
        self._new: list[LiveStory] = []
        self.backlog = tuple(self._make(number, LIVE_SECTIONS[number % len(LIVE_SECTIONS)],
                                        self.start - age * 3600, backlog=True)
                             for number, age in enumerate(BACKLOG_AGES))

    def live_at(self, k: int) -> float:
        """When new story ``k`` (0-based) goes live."""
        return self.start + math.floor((k + 1) * self.publish_every)

    def published_count(self, now: float) -> int:
        """How many new stories are live at ``now``."""
        k = max(0, int((now - self.start) / self.publish_every) - 1)
        while k > 0 and self.live_at(k - 1) > now:
            k -= 1
        while self.live_at(k) <= now:
            k += 1
        return k

    def new_story(self, k: int) -> LiveStory:
        """New story ``k`` (0-based), live or not."""
        with self._lock:
            while len(self._new) <= k:
                self._new.append(self._next(len(self._new)))
            return self._new[k]

    def live(self, now: float) -> list[LiveStory]:
        """Every story live at ``now``, oldest first."""
        count = self.published_count(now)
        return [*self.backlog, *(self.new_story(k) for k in range(count))]

    def _next(self, k: int) -> LiveStory:
        slot = CYCLE[k % len(CYCLE)]
        rng = random.Random(f"{self.seed}:slot:{k}")
        number = len(self.backlog) + k
        if slot == "front":
            section = FRONT_ONLY_SECTION
        elif slot == "host":
            section = self._new[k - 1].section  # the "more" story just before it
        else:
            section = rng.choice(LIVE_SECTIONS)
        only = slot if slot in ONLY_KINDS else None
        linked_from = number + 1 if only == "more" else None
        return self._make(number, section, self.live_at(k), only=only, linked_from=linked_from)

    def _make(self, number: int, section: str, live_at: float, *, only: str | None = None,
              linked_from: int | None = None, backlog: bool = False) -> LiveStory:
        rng = random.Random(f"{self.seed}:story:{number}")
        place = rng.choice(_PLACES)
        subject = rng.choice(_SUBJECTS[section])
        action = rng.choice(_ACTIONS[section])
        headline = f"{place} {subject} {action}"
        headline = headline[0].upper() + headline[1:]
        slug = re.sub(r"[^a-z0-9]+", "-", headline.lower()).strip("-") + f"-{number}"
        author = f"{rng.choice(_FIRSTS)} {rng.choice(_LASTS)}"
        lead = (f"The {subject} in {place} {action}, a {rng.choice(_ADJECTIVES)} turn for a "
                f"{section} story that readers of The Daily Loopback have followed closely, "
                f"and story number {number} on this site.")
        paragraphs = [lead]
        for _ in range(4):
            paragraphs.append(" ".join(self._sentence(rng, subject) for _ in range(3)))
        return LiveStory(number, section, slug, headline, author, tuple(paragraphs), live_at,
                         only, linked_from, backlog)

    @staticmethod
    def _sentence(rng: random.Random, subject: str) -> str:
        template = rng.choice(_SENTENCES)
        text = template.format(
            person=f"{rng.choice(_FIRSTS)} {rng.choice(_LASTS)}", place=rng.choice(_PLACES),
            adj=rng.choice(_ADJECTIVES), noun=rng.choice(_NOUNS), subject=subject,
            month=rng.choice(_MONTHS), day=rng.choice(_DAYS), number=f"{rng.randrange(120, 9800):,}",
            small=rng.randrange(2, 11), years=rng.randrange(3, 40))
        return text[0].upper() + text[1:]
