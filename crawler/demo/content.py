"""What "The Daily Loopback" publishes: its sections and articles, as data.

Nothing here knows about HTTP or HTML. :mod:`crawler.demo.site` renders these
articles and serves them; the ground truth it exposes is derived from the same
records, so the pages and the truth cannot drift apart.

Dates are written as they appear on the page (``published`` of one article has
no zone on purpose). Paragraph text is Unicode as a reader sees it; the
renderer escapes it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

__all__ = [
    "AMP_SOURCE",
    "ARTICLES",
    "LAB_ARTICLES",
    "NEAR_DUPLICATE",
    "SECTIONS",
    "SITE_NAME",
    "WIRE_SOURCE",
    "Article",
    "section_articles",
    "short_headline",
    "teaser",
]

SITE_NAME = "The Daily Loopback"
#: Section key (the URL folder) -> the name printed on the site.
SECTIONS = {"biz": "Biz", "tech": "Tech", "culture": "Culture", "lab": "Lab"}

_TEASER_WORDS = 40
_LINK_WORDS = 6


@dataclass(frozen=True)
class Article:
    """One article as published.

    ``metadata`` says what machine-readable metadata its page carries:
    ``"json-ld"`` (a NewsArticle block and a few og tags), ``"og"`` (Open Graph
    and ``article:*`` tags only) or ``"none"`` (a plain page). ``authors`` are
    the people a correct extraction reports: none when the byline only names a
    role ("By Staff Reporter"). ``byline`` is the visible byline when it is not
    "By <authors>" (a role, or another language). ``published`` and
    ``modified`` are ISO 8601 as printed on the page, with or without an offset.
    """

    section: str
    slug: str
    headline: str
    authors: tuple[str, ...]
    published: str
    modified: str | None
    metadata: str
    paragraphs: tuple[str, ...]
    byline: str | None = None
    lang: str = "en"

    @property
    def path(self) -> str:
        """The clean URL path of the article (``/biz/slug.html``)."""
        return f"/{self.section}/{self.slug}.html"


def _paragraphs(text: str, joiner: str = " ") -> tuple[str, ...]:
    """Blank-line separated paragraphs of ``text``, each one's lines joined by ``joiner``."""
    blocks = textwrap.dedent(text).strip().split("\n\n")
    return tuple(joiner.join(line.strip() for line in block.splitlines()) for block in blocks)


def section_articles(section: str) -> tuple[Article, ...]:
    """The articles of ``section`` in site order (newest first), lab articles included."""
    return tuple(a for a in (*ARTICLES, *LAB_ARTICLES.values()) if a.section == section)


def teaser(article: Article) -> str:
    """The teaser text of ``article`` in "More <Section>" blocks: the first 40
    words of its first paragraph and " [...]"."""
    words = article.paragraphs[0].split()
    return " ".join(words[:_TEASER_WORDS]) + " [...]"


def short_headline(article: Article) -> str:
    """The link text of ``article`` in teaser blocks: its first six words and
    "…", or the whole headline when it is not longer than that."""
    words = article.headline.split()
    if len(words) <= _LINK_WORDS:
        return article.headline
    return " ".join(words[:_LINK_WORDS]) + "\u2026"


ARTICLES: tuple[Article, ...] = (
    # --- Biz -------------------------------------------------------------------
    Article(
        "biz", "meridian-foods-buys-crispin-and-vale",
        "Meridian Foods Agrees to Buy Snack Maker Crispin & Vale for $1.2 Billion",
        ("Jane Doe", "John Roe"), "2017-11-14T09:30:00-08:00", "2017-11-14T16:05:00-08:00",
        "json-ld", _paragraphs("""
        Meridian Foods has agreed to buy the snack maker Crispin & Vale for about $1.2 billion
        in cash, betting that kettle chips and seaweed crackers can revive growth at a company
        best known for canned soup. The deal, announced before markets opened on Tuesday, values
        Crispin at roughly 14 times its annual operating profit.

        Shoppers have been drifting away from the center aisles of the supermarket for years,
        and Meridian has felt it more than most. Soup volumes fell for the sixth straight quarter
        this summer, and the company cut its full-year forecast twice. Chief executive Dana
        Whitfield told analysts that snacks were “where the customer already is.”

        Crispin & Vale was founded in 2009 by two former chefs in a rented kitchen in Sacramento
        and now sells its products in more than 30,000 stores. Its sales rose 22 percent last
        year, helped by a line of lentil chips that became a fixture in office pantries. The
        founders will stay on to run the brand as a separate division.

        Investors were not entirely convinced. Meridian shares fell 4 percent in early trading
        as analysts questioned the price and the debt the company will take on to pay it. “They
        are paying for growth they could not build themselves,” said Priya Natarajan, a consumer
        goods analyst at Halbrook Securities.

        The transaction still requires approval from regulators and is expected to close in the
        first quarter of next year. Meridian said it would pause its share buyback program for
        two years to pay down the borrowing. Crispin’s snack factory in Sacramento will remain
        open, and no job cuts are planned.
        """)),
    Article(
        "biz", "bayview-dockworkers-ratify-contract",
        "Port Workers Ratify Contract, Ending Three-Week Slowdown",
        ("Maria Alvarez",), "2017-12-05T14:10:00-05:00", None, "json-ld", _paragraphs("""
        Dockworkers at the Port of Bayview voted on Monday to ratify a five-year contract,
        ending a three-week slowdown that had left container ships waiting at anchor and
        retailers worried about holiday inventory. The agreement was approved by 87 percent of
        the union members who cast ballots, according to their local.

        The dispute centered on automation. The port’s operators want to introduce
        remote-controlled cranes at two of its five terminals, and the union feared the machines
        would eliminate hundreds of jobs. Under the new contract, no current worker can be laid
        off because of automation, and the operators will pay for retraining.

        During the slowdown, workers refused overtime shifts and processed cargo at roughly half
        the normal pace. At its peak, 23 vessels were waiting outside the harbor, and some
        shipping lines diverted cargo to ports farther up the coast. Several toy retailers moved
        shipments to air freight at considerable cost.

        “Nobody wins when the cranes stop,” said Tom Brannigan, the president of the local, after
        the vote was announced. “We got the protections our members needed, and now we are going
        to move the freight.” The port authority expects to clear the backlog within ten days.

        Economists said the slowdown was unlikely to leave a lasting mark on the regional
        economy, though trucking companies and warehouse operators lost weeks of business. The
        new contract also raises wages by 3 percent a year and adds a second pension plan. It
        runs through the end of 2022.
        """)),
    Article(
        "biz", "coastline-bancorp-bad-loan-reserves",
        "Coastline Bancorp Sets Aside More for Bad Loans as Retail Tenants Struggle",
        (), "2018-01-19T08:00:00+00:00", None, "json-ld", _paragraphs("""
        Coastline Bancorp, a regional lender with branches across four states, said on Friday
        that it had set aside $86 million to cover loans that may go unpaid, nearly triple the
        amount it reserved a year earlier. Most of the increase is tied to loans on shopping
        centers whose tenants are closing stores or asking for lower rent.

        The bank reported fourth-quarter profit of $41 million, down from $63 million a year
        earlier. Revenue was roughly flat as higher interest rates helped the bank earn more on
        its loans while fees from mortgage refinancing dried up. Shares of Coastline fell 6
        percent in morning trading.

        Commercial real estate makes up about a third of Coastline’s loan book, a larger share
        than at most banks of its size. Chief financial officer Raymond Osei said the bank had
        stopped making new loans on enclosed malls in 2016. “The problems we are provisioning for
        today were written years ago,” he said.

        Analysts said the bank’s capital remained strong and that the reserve was a sign of
        caution rather than distress. Still, the results added to concerns about smaller lenders
        that expanded quickly into commercial property after the financial crisis. Regulators
        have warned twice this year about concentration in the sector.

        Coastline said it would keep its quarterly dividend unchanged at 18 cents a share. The
        bank also plans to close eleven branches over the next year as more customers move to
        mobile banking, a change it expects to save about $9 million annually.
        """), byline="By Staff Reporter"),
    Article(
        "biz", "harrow-and-finch-sells-tea-to-cafes",
        "A Tea Importer Finds Growth by Selling Straight to Cafés",
        ("Lena Fischer",), "2018-02-08T11:45:00+01:00", "2018-02-09T09:00:00+01:00", "og",
        _paragraphs("""
        For twenty years, Harrow & Finch sold tea the traditional way, importing leaves from
        estates in India and Kenya and passing them to wholesalers who supplied supermarkets.
        Three years ago the small importer began selling directly to independent cafés instead,
        and revenue has doubled since then.

        The shift came after a large supermarket chain dropped two of the firm’s blends to make
        room for its own label. Managing director Helen Achebe said the company realized it had
        no relationship with the people who actually drank its tea. “We were a name on a box in
        somebody else’s warehouse,” she said.

        Selling to cafés meant building things the company had never needed before. It hired
        six trainers who teach baristas to brew loose-leaf tea at the right temperature, and it
        built an ordering system that lets a café restock within two days. Margins are higher
        than in supermarkets, even after the cost of the trainers.

        Not everything has gone smoothly. A new warehouse near Bristol opened four months late,
        and the company briefly ran out of its best-selling breakfast blend last winter. Some
        café owners also say minimum orders are too large for small shops, which the company
        plans to fix with smaller packs this spring.

        Harrow & Finch is now considering a move into Germany and the Netherlands, where
        specialty coffee shops have started adding premium tea to their menus. Achebe said the
        company would rather grow slowly than borrow heavily to expand. “We learned what it feels
        like to depend on one customer,” she said.
        """)),
    # --- Tech ------------------------------------------------------------------
    Article(
        "tech", "metro-valley-retires-paper-tickets",
        "City Transit Agency Retires Paper Tickets After Contactless Pilot",
        ("Ken Watanabe", "Aisha Bello"), "2017-11-28T07:15:00-08:00",
        "2017-11-28T12:40:00-08:00", "json-ld", _paragraphs("""
        The Metro Valley Transit Authority will stop selling paper tickets next spring, after a
        yearlong pilot in which riders paid by tapping bank cards and phones at the gates. The
        agency said on Tuesday that contactless payments now make up more than half of all fares
        on its light rail lines.

        Riders in the pilot could tap any contactless credit or debit card, or a phone with a
        mobile wallet, instead of buying a ticket from a machine. The system charges the cheapest
        combination of fares for the trips taken in a day and caps the total at the price of a
        day pass, which riders said was the best part of the pilot.

        Not everyone is pleased. Advocates for low-income riders warned that people without bank
        accounts could be shut out, and the agency has promised to keep reloadable fare cards on
        sale at 120 convenience stores and pharmacies. About 8 percent of riders still paid with
        cash during the final month of the pilot.

        The technology was supplied by Tollgate Systems, a payments company that has built
        similar systems for transit agencies in Europe and Australia. Readers at the gates send
        each tap to a central server, which settles fares with the card networks overnight. A
        tap takes less than half a second, faster than the old magnetic tickets.

        The agency’s board still has to approve the final contract, worth $38 million over seven
        years, at its meeting next month. Officials said the savings from retiring paper tickets
        would cover most of that cost, since printing, selling and collecting them costs the
        agency about $4 million a year.

        Other cities are watching closely. Transit agencies in at least three neighboring
        regions have asked for data from the pilot, and a state commission is studying whether a
        single contactless system could cover every bus and train in the state. Riders would
        then need only one card, or one phone, for every trip.

        Buses will switch over later in the year, once new readers are installed on all 640
        vehicles in the fleet. Ticket machines at the stations will be removed in stages, and
        their space will go to bicycle racks and benches. Officials expect the last machine to be
        gone by the end of 2019.
        """)),
    Article(
        "tech", "quarry-database-changes-license",
        "Open-Source Database Project Changes License to Fend Off Cloud Resellers",
        ("Tom Lindqvist",), "2018-03-02T10:00:00", None, "json-ld", _paragraphs("""
        The company behind Quarry, a popular open-source database, said on Friday that future
        versions of the software would be released under a license that bars cloud providers
        from selling it as a hosted service without paying. Existing versions keep their
        original license, and developers who ship Quarry inside their own products are not
        affected.

        The change is the latest skirmish between open-source companies and the large cloud
        platforms, which can offer a free project as a paid service without contributing to its
        development. “We write the code, and they collect the rent,” chief executive Nadia
        Ferreira wrote in a blog post announcing the decision.

        Some contributors reacted angrily. Several long-time volunteers said on the project’s
        mailing list that they had contributed code on the understanding that it would stay
        open, and two Linux distributions said they were reviewing whether they could keep
        shipping new releases. A group of developers has already started a fork.

        Legal experts said the new license would probably hold up, but that its wording left
        room for disputes. It defines a hosted service as one that offers the database’s
        features to third parties, a phrase that could cover ordinary web applications. Quarry
        Labs said it would publish answers to common questions about permitted uses.

        The company, which raised $60 million from venture investors last year, sells a hosted
        version of Quarry and paid support contracts. Ferreira said the license change was not a
        sign of financial trouble but a way to keep paying the project’s engineers. The first
        release under the new terms is scheduled for April.
        """)),
    Article(
        "tech", "kestrel-delays-halcyon-processor",
        "Chipmaker Delays Flagship Processor, Citing Yield Problems at New Plant",
        ("Daniel Cho",), "2018-01-25T16:20:00+09:00", None, "og", _paragraphs("""
        Kestrel Semiconductor said on Thursday that its next flagship processor would arrive six
        months later than planned because its new factory was producing too many faulty chips.
        The delay pushes the launch of the chip, code-named Halcyon, into the second half of next
        year and gives rivals an opening in the data center market.

        The company blamed low yields, the share of chips on each silicon wafer that work
        properly. Kestrel moved the plant to a new manufacturing process last year, packing
        transistors more tightly than ever before. “We will not ship a product we cannot build in
        volume,” chief executive Hiroshi Tanabe said.

        Kestrel’s shares fell 9 percent in Tokyo after the announcement. Analysts said the delay
        could cost the company some of its largest customers, who plan their server purchases a
        year or more in advance. Two cloud providers that expected to deploy Halcyon are now
        likely to order chips from competitors.

        The company also lowered its revenue forecast for the fiscal year by about 5 percent,
        citing the delay and weaker demand for chips used in personal computers. It will keep
        selling its current processors, which are made on an older process at a different plant
        and have not been affected.

        Manufacturing problems of this kind are common when chipmakers move to a new process,
        but they have become more expensive as factories grow more complex. A single advanced
        plant can now cost more than $10 billion to build. Kestrel expects to reach normal
        yields by the end of the year.
        """)),
    Article(
        "tech", "recell-refurbished-phones-funding",
        "Startup Bets on Refurbished Phones as Upgrade Cycles Lengthen",
        ("Meera Pillai",), "2018-02-20T10:30:00+05:30", None, "none", _paragraphs("""
        ReCell, a startup based in Bengaluru that refurbishes used smartphones and resells them
        with a one-year warranty, has raised $25 million from investors who believe people are
        keeping their phones longer. The company said it sold 400,000 refurbished phones last
        year, up from 90,000 the year before.

        Phone makers have struggled as improvements in new models become less dramatic and
        prices climb. Industry surveys show that people now keep their phones for nearly three
        years on average, compared with about two years at the start of the decade. When they do
        upgrade, more of them choose a used flagship over a new budget phone.

        ReCell buys phones from trade-in programs and corporate fleets, then tests and repairs
        them at a facility that employs about 300 technicians. Screens and batteries are replaced
        when needed, and each phone is graded by condition. Founder Arjun Mehta said the hardest
        part of the business was logistics, not repairs.

        The company sells mostly online but plans to open kiosks in shopping malls in five cities
        this year. Mehta said the kiosks would also buy phones directly from customers, giving
        ReCell a steadier supply of devices. The new funding will also pay for a second repair
        center in the north of the country.

        Environmental groups have welcomed the growth of the refurbished market, which keeps
        devices out of landfills and reduces demand for newly mined metals. Still, refurbished
        phones remain a small share of total sales, and some buyers worry about hidden defects.
        ReCell says fewer than 3 percent of its phones come back under warranty.
        """)),
    # --- Culture ---------------------------------------------------------------
    Article(
        "culture", "starlight-theater-reopens",
        "Small-Town Cinema Reopens After Crowdfunding Campaign Beats Its Goal",
        ("Rosa Delgado", "Mark Ellison", "Jane Doe"), "2017-11-20T18:00:00-06:00", None,
        "json-ld", _paragraphs("""
        The Starlight Theater in Millbrook reopened on Saturday night, two years after its owner
        closed the 1930s cinema because he could not afford to replace its film projectors with
        digital equipment. A crowdfunding campaign organized by residents raised $142,000, well
        beyond its goal of $95,000.

        More than 400 people lined up along Main Street for the opening screening, a restored
        print of a classic musical, and the theater sold out its first three nights. Many of the
        donors had grown up going to the Starlight. Children who gave at least five dollars had
        their names painted on a wall in the lobby.

        Small independent cinemas across the country have faced the same problem over the past
        decade. When studios stopped distributing films on 35-millimeter prints, theaters needed
        digital projectors that can cost more than $60,000 each. Many single-screen theaters in
        rural areas closed rather than take on the debt.

        The Starlight is now run by a nonprofit group with a volunteer board, and it plans to
        show new releases, classic films and live broadcasts of opera. Board chair Evelyn Marsh
        said tickets would stay at seven dollars so that families could come regularly. “A cinema
        only survives if people make it a habit,” she said.

        The town’s business owners hope the theater will bring more people downtown in the
        evenings. A restaurant across the street has extended its weekend hours, and an ice cream
        shop that closed in 2016 is set to reopen in the spring. For now, the volunteers are
        focused on keeping the popcorn machine running.
        """)),
    Article(
        "culture", "lindenau-street-symphony",
        "Orchestra Commissions a Symphony Built From the Sounds of Its City’s Streets",
        ("Olivia Grant",), "2017-12-12T10:00:00+01:00", "2017-12-13T08:30:00+01:00", "json-ld",
        _paragraphs("""
        The Lindenau Philharmonic has commissioned a symphony built entirely around sounds
        recorded on the city’s streets, from tram bells and market traders to the hum of the
        river ferries. The composer, Marta Kowalczyk, spent eight months collecting more than
        2,000 recordings for a score that premieres in October.

        Kowalczyk said the idea came to her while waiting for a night bus, when she noticed that
        the rhythm of the indicator lights matched a phrase she had been struggling to finish.
        She began carrying a small recorder everywhere and invited residents to send in their own
        recordings. About a third of the sounds came from the public.

        The musicians will play alongside the recordings, which a sound engineer will mix live
        from the back of the hall. In some passages the strings imitate the squeal of tram wheels
        on a curve, and in another the brass answers the horn of a departing ferry. The piece
        lasts about fifty minutes.

        The commission is part of an effort by the orchestra to reach people who rarely attend
        classical concerts. Ticket sales have been stable for five years, but the average age of
        subscribers keeps rising. Artistic director Jonas Ebert said he wanted people to hear
        their own neighborhoods in the music.

        The premiere will be followed by free performances in three public squares, where the
        orchestra will play excerpts on an outdoor stage. A recording of the symphony will be
        released next year, and the orchestra plans to publish the street recordings online so
        that other musicians can use them.
        """)),
    Article(
        "culture", "carved-doors-return-to-village",
        "Museum Returns Carved Doors to Village After Decade-Long Campaign",
        ("Kwame Mensah",), "2018-01-09T12:00:00+02:00", None, "json-ld", _paragraphs("""
        A pair of carved wooden doors that stood in a regional museum for almost a century were
        returned on Tuesday to the village they were taken from, ending a campaign by residents
        that began more than a decade ago. The doors once guarded the entrance to a chief’s
        compound and were removed in 1921 by a colonial officer.

        The museum’s trustees agreed to the return last spring after researchers confirmed that
        the doors had been taken without the consent of the village elders. The decision followed
        years of letters, petitions and visits by a delegation led by a retired schoolteacher who
        first saw the doors in a library book.

        Hundreds of people gathered in the village square for a ceremony to welcome the doors
        home, with drumming, speeches and a procession to the new community center where they
        will be displayed. Elders said the carvings tell the history of the village’s founding
        families.

        The return is part of a wider reckoning among museums over objects acquired during the
        colonial era. Several institutions have published inventories of items with uncertain
        histories, and some have begun returning them. Critics say the process remains slow and
        that museums still decide which claims to accept.

        The museum will keep a replica of the doors on display, along with an exhibit explaining
        how they were acquired and why they were returned. Its director called the return “the
        right outcome, reached far too late,” and said the museum had begun reviewing other
        objects from the same region.
        """)),
    Article(
        "culture", "independent-bookshops-holiday-sales",
        "Independent Bookshops Post Best Holiday Season in a Decade",
        ("Hannah Park", "David Levin"), "2018-01-04T09:00:00-05:00",
        "2018-01-04T15:20:00-05:00", "json-ld", _paragraphs("""
        Independent bookstores had their strongest holiday season in at least ten years,
        according to figures released on Thursday by a trade association representing more than
        1,800 shops. Sales in November and December rose 7 percent from a year earlier, driven by
        gifts, children’s books and a surprise hit memoir about a family of beekeepers.

        The results extend a recovery that few expected when online retailers pushed hundreds of
        bookstores out of business in the late 2000s. The number of independent shops has grown
        for eight consecutive years, and many of the new stores are small, rooted in a
        neighborhood and busy with readings and book clubs.

        Store owners said customers increasingly treat a visit to a bookshop as an outing rather
        than an errand. “People come in to browse, to talk to someone who has read the book,”
        said Grace Oyelaran, who owns a shop in Columbus. “You cannot download that part.”

        The picture is not entirely rosy. Rents in many city neighborhoods have risen faster than
        sales, and some owners said they were working longer hours to keep up. Margins on books
        remain thin, which is why many shops now sell coffee, stationery and gifts alongside new
        titles.

        The association said its members were also benefiting from partnerships with schools and
        libraries, which buy books for classrooms and reading programs. It expects growth to
        continue this year at a slower pace, and plans to expand a program that helps new owners
        find affordable locations.
        """)),
)

#: The biz article that the wire service republishes word for word.
WIRE_SOURCE = "meridian-foods-buys-crispin-and-vale"
#: The biz article that also has an AMP copy.
AMP_SOURCE = "bayview-dockworkers-ratify-contract"
#: The tech article with an "-update" near-duplicate: (slug, old text, new text);
#: the replacement changes one word of one sentence. Near-duplicates are found by
#: MinHash LSH (crawler.store.dedupe): an estimated Jaccard similarity of the bodies'
#: word 3-shingles of at least 0.8, 103 of 128 signature values. Measured with
#: crawler.article.fingerprints.estimated_jaccard on the two bodies as extracted (the
#: paragraphs joined by "\n\n"): 125/128 = 0.977 (true Jaccard 370/376), and
#: 119/128 when the extracted body also keeps the headline. Losing a paragraph
#: is not always tolerated: without the second one it drops to 93/128.
NEAR_DUPLICATE = ("metro-valley-retires-paper-tickets", "About 8 percent", "About 20 percent")

#: Real articles on the misbehaving pages of ``/lab/``, by what is wrong with the page.
LAB_ARTICLES: dict[str, Article] = {
    "malformed": Article(
        "lab", "malformed", "Harbor Ferry Operator Adds Electric Boats to Its Fleet",
        ("Nora Quinn",), "2018-03-10T08:00:00-08:00", None, "json-ld", _paragraphs("""
        Bayline Ferries will put four battery-powered boats into service on its harbor routes
        this summer, replacing diesel vessels that have carried commuters across the bay since
        the 1980s. The company said the new boats would cut its fuel costs by about a third.

        Each boat carries up to 150 passengers and recharges in about ten minutes while docked,
        using charging arms installed at both ends of the route. The boats were built by a
        shipyard in Norway, where electric ferries have crossed fjords since 2015.

        The project cost $48 million, about half of which came from a state clean transport
        fund. Bayline’s chief executive said fares would not rise to pay for the new fleet. Two
        diesel boats will stay in reserve for storms and holiday crowds.

        Commuters who tried the boats during sea trials said the ride was noticeably quieter,
        with less vibration on the upper deck. Crews have spent three months training on the new
        controls and charging procedures.

        If the first year goes well, Bayline plans to convert its remaining routes by 2021. Two
        other ferry operators on the coast have said they are watching the results closely.
        """)),
    "windows-1252": Article(
        "lab", "windows-1252", "Café Chain Maison Crème Raises €40 Million to Expand in Europe",
        ("Élodie Marchand",), "2018-03-12T09:15:00+01:00", None, "json-ld", _paragraphs("""
        Maison Crème, the café chain from Lyon known for its pastries and “slow breakfast”
        menus, has raised €40 million from investors led by a French pension fund. It plans to
        open 60 cafés in Belgium, Spain and Germany over three years — more than doubling its
        size.

        Founder Sébastien Roux opened the first café in 2009 in a former bakery near the Saône.
        He said growth had come from short menus and modest prices: a croissant and a coffee
        still cost €3.50 in most of the chain’s cafés.

        Investors are betting that diners will keep spending on small treats even as they cut
        back elsewhere. Café chains have grown faster than full-service restaurants in France for
        five straight years, according to industry figures.

        Expanding abroad brings risks. Rents in Madrid and Berlin are rising quickly, and Roux
        admitted that “what works on a corner in Lyon does not always work in Hamburg.” The
        company will test its menus in two pilot cafés first.

        Maison Crème employs about 900 people and reported revenue of €75 million last year.
        Roux said he had no plans to sell the company or to list its shares.
        """)),
    "gb2312": Article(
        "lab", "gb2312", "江南古镇茶园迎来旅游热潮", ("李明", "王芳"),
        "2018-03-16T10:00:00+08:00", None, "json-ld", _paragraphs("""
        浙江安吉的一个小镇今年春天迎来了大批游客。当地的古茶园有三百多年的历史，
        山上的老茶树有的已经长到两米多高。每年清明前后，来自上海、杭州和南京的游客，
        都会专程前来采茶、品茶、拍照。镇政府表示，今年三月的游客人数，比去年同期增长了将近一倍。

        茶园的主人陈大伯今年六十八岁，他从十几岁起，就跟着父亲在山上种茶、炒茶。
        他说，过去茶叶主要卖给外地的商人，价格由别人决定；现在游客直接来到茶园，
        不仅买茶，还愿意住在村里的民宿。“以前我们只会种茶，现在还要学会讲茶的故事。”

        为了接待更多游客，村里去年修建了新的停车场和步行道，并对几十栋老房子进行了改造。
        一些年轻人从城市回到家乡，开起了咖啡馆、书店和手工作坊。镇里的干部说，
        回乡创业的年轻人已经超过一百人，其中不少是大学毕业生，有的还带回了在外地学到的经验。

        不过，旅游热也带来了新的问题。周末的时候，进山的道路经常堵车，停车场也不够用。
        一些茶农担心，游客太多会影响茶树的生长；也有村民抱怨，垃圾变多了，晚上也不安静了。
        镇政府计划从下个月开始实行网上预约，每天限制进入茶园的人数，并增加开往县城的公共汽车。

        专家认为，把农业和旅游结合起来，是许多乡村发展的一条新路。但他们也提醒，
        保护好自然环境和传统文化，才是长久发展的基础，不能只看眼前的收入。
        陈大伯说，他最大的希望，是孙子将来也愿意留在山上，继续种茶、做茶。
        """, joiner=""), byline="记者 李明 王芳", lang="zh"),
    "no-charset": Article(
        "lab", "undeclared", "A Café Famous for Its Naïve Paintings Turns Twenty",
        ("René Dubois",), "2018-03-14T19:00:00+01:00", None, "json-ld", _paragraphs("""
        Café Colette, the small restaurant on Rue des Tanneurs whose walls are covered in naïve
        paintings by local amateurs, celebrated its twentieth anniversary on Wednesday with a
        party that spilled out onto the pavement. Regulars brought their own canvases.

        Owner Colette Benoît opened the café in 1998 with a résumé that included a decade as a
        museum guard and no experience in a kitchen. She started hanging paintings because the
        walls looked bare and she could not afford “real art.”

        The collection has grown to more than 300 works, most of them in the flat, brightly
        colored naïve style that gave the café its reputation. Several of the painters have gone
        on to exhibit in galleries, and one sold a canvas to a collector in Montréal.

        The menu has barely changed since opening day: a soupe à l’oignon, a croque-monsieur,
        crème brûlée and a tarte Tatin that Benoît still bakes herself each morning. Prices
        have risen only twice, and the café still serves its famous crêpes à la carte.

        Asked about the next twenty years, Benoît said she had no plans to retire. “As long as
        people keep painting, I will keep finding wall space,” she said.
        """)),
}
