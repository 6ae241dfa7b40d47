"""The dedupe corpus: twenty fictional news stories written for the tests, three edits of each
(one word changed, one sentence removed, two sentences appended), and the near-duplicate
figures measured on it.

``tests/unit/article/test_fingerprints.py`` measures them with the fingerprints alone;
``tests/redis/store/test_dedupe.py`` repeats the measurement through the Redis store.
"""

from __future__ import annotations

import re

CORPUS = [
    # 0
    "The city council voted on Tuesday night to approve a budget of 412 million dollars for the "
    "coming fiscal year, ending weeks of debate over how to pay for road repairs and a new library "
    "branch on the east side.\n\n"
    "The measure passed by a vote of seven to two. Council member Rita Alvarez, who voted against it, "
    "said the plan relied too heavily on a one-time transfer from the reserve fund. \"We are papering "
    "over a structural gap,\" she said during the meeting, which ran past midnight.\n\n"
    "Supporters argued that the roads could not wait another year. The public works department has "
    "estimated that nearly a third of the city's streets are in poor condition, and complaints about "
    "potholes doubled last winter. The budget sets aside 38 million dollars for resurfacing, the "
    "largest amount in more than a decade.\n\n"
    "The library branch, long promised to residents of the Eastgate neighborhood, will receive 12 "
    "million dollars for design and construction. Officials said they hoped to break ground next "
    "spring. The mayor is expected to sign the budget later this week.",
    # 1
    "A powerful storm swept across the northern coast on Sunday, knocking out power to more than "
    "80,000 homes and forcing the closure of two major highways as winds gusted above 100 "
    "kilometers an hour.\n\n"
    "Emergency crews worked through the night to clear fallen trees from roads around the port town "
    "of Kessel, where a section of the harbor wall was damaged by waves. No deaths were reported, "
    "but three people were treated in hospital for minor injuries after a roof collapsed on a "
    "warehouse.\n\n"
    "The national weather service had issued a red warning on Saturday afternoon, urging residents "
    "to stay indoors. Ferry services to the islands were suspended and will not resume before "
    "Tuesday at the earliest, the operator said.\n\n"
    "The utility company said it expected to restore electricity to most customers within two days, "
    "though some rural areas could remain without power until the end of the week.",
    # 2
    "Rovers came from two goals down to beat City 3-2 on Saturday, keeping their slim hopes of a "
    "title challenge alive with five matches left in the season.\n\n"
    "City looked in control after first-half goals from their captain and a 19-year-old winger making "
    "only his fourth start. The home crowd fell quiet, and several fans left at half-time.\n\n"
    "But the substitution of the veteran striker Marco Beltrami changed the game. He set up the first "
    "goal within minutes of coming on, scored the equalizer with a header from a corner, and then "
    "won the penalty that decided the match in stoppage time.\n\n"
    "\"We never stopped believing,\" the Rovers manager said afterward. \"The players showed real "
    "character today.\" City's coach blamed tired legs and said his side had stopped playing after "
    "the break. Rovers are now four points behind the leaders, who play on Sunday.",
    # 3
    "The software company Northwind announced on Monday that it would cut about 1,200 jobs, or "
    "roughly 9 percent of its workforce, as it shifts spending toward its cloud and data businesses.\n\n"
    "In a memo to employees, the chief executive said the decision was painful but necessary after "
    "two years of slowing growth in the company's older products. Most of the cuts will fall on "
    "sales and marketing teams in North America and Europe, according to a person familiar with "
    "the plans.\n\n"
    "Affected employees will receive at least sixteen weeks of severance pay and extended health "
    "coverage, the company said. Shares of Northwind rose 4 percent in early trading, as investors "
    "welcomed the lower costs.\n\n"
    "The announcement follows similar moves by several large technology firms this year, which have "
    "trimmed staff hired during the rapid expansion of recent years while pouring money into new "
    "computing infrastructure.",
    # 4
    "Astronomers have detected water vapor in the atmosphere of a planet orbiting a small red star "
    "about 120 light years from Earth, a finding that could help scientists understand how common "
    "such worlds are.\n\n"
    "The planet, which is about twice the size of Earth, was observed as it passed in front of its "
    "star several times last year. By measuring how the starlight changed as it filtered through the "
    "planet's atmosphere, the team identified the signature of water molecules.\n\n"
    "The researchers cautioned that the planet is probably too hot to host liquid oceans on its "
    "surface, and that its atmosphere may be dominated by hydrogen. Still, the measurement is one "
    "of the clearest of its kind for a planet so small.\n\n"
    "The results were published on Wednesday in a scientific journal. The team plans further "
    "observations to look for other molecules, including carbon dioxide and methane.",
    # 5
    "Voters in the province went to the polls on Sunday in a regional election that is widely seen "
    "as a test for the national government, with turnout reported to be higher than four years ago.\n\n"
    "Early results suggested that the governing party would remain the largest group in the regional "
    "assembly but could lose its majority. A new party campaigning on housing costs and rural "
    "transport was polling in third place, its best result since it was founded.\n\n"
    "Long queues formed outside polling stations in the provincial capital in the morning, and "
    "officials extended voting hours at some locations. Counting is expected to continue overnight, "
    "with final results due on Monday afternoon.\n\n"
    "The prime minister, who campaigned in the province three times in the final week, said he "
    "would respect the voters' decision whatever the outcome.",
    # 6
    "The school board approved a plan on Thursday to start classes later at the district's four high "
    "schools, following research suggesting that teenagers learn better when they get more sleep.\n\n"
    "Starting next autumn, the first bell will ring at 8:45 in the morning instead of 7:30. The change "
    "will require new bus schedules, and elementary schools will start earlier to allow the district "
    "to use the same buses for both.\n\n"
    "Some parents spoke against the plan at the meeting, saying it would make mornings harder for "
    "families with younger children and push sports practices later into the evening. Others "
    "praised the board for acting on the evidence.\n\n"
    "The superintendent said the district would survey students and families after the first year "
    "and report on attendance and grades.",
    # 7
    "Bus and tram drivers in the capital walked off the job at dawn on Friday, leaving hundreds of "
    "thousands of commuters to find other ways to work on the first day of a planned 48-hour strike.\n\n"
    "The drivers' union is demanding a pay rise in line with inflation and limits on split shifts, "
    "which it says force members to work long days with unpaid breaks in between. The transport "
    "authority has offered a raise of 4 percent, which the union rejected last week.\n\n"
    "Traffic on the main roads into the city was heavy throughout the morning, and bicycle rental "
    "stations near the central train station ran empty before eight o'clock. Underground trains, run "
    "by a separate operator, were running normally but were crowded.\n\n"
    "Talks between the two sides are scheduled to resume on Monday.",
    # 8
    "Firefighters were battling a wildfire that had burned more than 6,000 hectares of forest in the "
    "hills east of the valley by Saturday evening, as dry winds pushed the flames toward several "
    "small villages.\n\n"
    "About 1,500 residents were ordered to leave their homes, and schools in the area were opened as "
    "shelters. Water-dropping aircraft were grounded for several hours in the afternoon because of "
    "the strong winds, officials said.\n\n"
    "The fire started on Thursday near a road, and investigators are examining whether it was caused "
    "by a discarded cigarette or a spark from a vehicle. It is the largest fire in the region this "
    "year, following months of below-average rainfall.\n\n"
    "Forecasters said cooler weather and light rain could arrive by Monday, which would help crews "
    "contain the blaze.",
    # 9
    "A new exhibition at the city's art museum brings together more than 90 works by the painter "
    "Helena Voss, many of which have not been shown in public for half a century.\n\n"
    "Voss, who died in 1971, was known during her lifetime for portraits of factory workers and "
    "harbor scenes, but her later abstract paintings were largely ignored. The exhibition gives them "
    "equal space, arranging the works by decade to show how her style changed.\n\n"
    "Several of the paintings were lent by private collectors, and one large canvas was discovered "
    "only two years ago, rolled up in the attic of a house that once belonged to her sister.\n\n"
    "The exhibition opens on Saturday and runs until the end of January. Tickets are free for visitors "
    "under 18.",
    # 10
    "The central bank raised its main interest rate by a quarter of a percentage point on Thursday, "
    "to 4.5 percent, its third increase this year, saying inflation remained too high.\n\n"
    "Consumer prices rose 5.1 percent in the twelve months to September, driven by food and energy "
    "costs, according to the latest official figures. The bank's target is 2 percent.\n\n"
    "In a statement, the bank's governor said further increases could not be ruled out but that the "
    "board would take into account signs that the economy was slowing. Retail sales fell in August, "
    "and unemployment has edged up for two months in a row.\n\n"
    "Mortgage lenders are expected to pass on the increase to borrowers with variable-rate loans "
    "within weeks. The currency strengthened slightly after the announcement.",
    # 11
    "The regional hospital will open a new emergency department next month, doubling the number of "
    "treatment rooms and adding a separate area for children, its director said on Tuesday.\n\n"
    "The old department was built in the 1980s for about 30,000 visits a year. It now handles more "
    "than 70,000, and patients have often waited for hours in corridors during busy winter weeks.\n\n"
    "The new wing cost 95 million dollars and was paid for by the regional government and a "
    "fundraising campaign that drew donations from more than 4,000 local residents and businesses.\n\n"
    "Staff will move into the building over a weekend to avoid disrupting care, and ambulances will "
    "be redirected to the new entrance from the Monday morning.",
    # 12
    "Farmers in the southern plains are bracing for one of the smallest wheat harvests in decades "
    "after a winter and spring with almost no rain, the agriculture ministry said on Wednesday.\n\n"
    "The ministry forecast a harvest about 40 percent smaller than last year. In some districts, "
    "farmers have already ploughed under fields where the crop failed to grow, and many have sold "
    "part of their cattle herds because of the cost of feed.\n\n"
    "The government announced emergency payments for the worst affected farms and said it would "
    "allow more grain to be imported without tariffs until the end of the year to keep bread prices "
    "stable.\n\n"
    "Water levels in the region's reservoirs are at their lowest since records began, and several "
    "towns have limited the use of water for gardens and car washing.",
    # 13
    "The main bridge over the river will reopen to traffic in early December, three months ahead of "
    "schedule, after engineers completed repairs to the steel supports damaged in last year's flood.\n\n"
    "The bridge carried about 40,000 vehicles a day before it was closed. Since then, drivers have "
    "had to use a detour of up to 25 kilometers, and businesses on both banks say they have lost "
    "customers.\n\n"
    "The transport department said crews worked night shifts through the summer to speed up the "
    "work. Heavy trucks will still be barred from the bridge until a final inspection in the spring.\n\n"
    "A ceremony is planned for the morning of the reopening, and the first vehicles will cross after "
    "it ends.",
    # 14
    "A documentary about a family of fishermen who refuse to leave a shrinking island won the top "
    "prize at the film festival on Saturday, beating a field of 18 features from around the world.\n\n"
    "The jury called the film patient and unsentimental. Its director, who spent four years living "
    "on the island while filming, thanked the family in a short speech and said the prize belonged to "
    "them.\n\n"
    "The award for best actress went to a 72-year-old first-time performer in a comedy about a "
    "retired teacher, while the best director prize was shared by two filmmakers.\n\n"
    "Organizers said attendance had reached a record this year, with more than 140,000 tickets sold "
    "over ten days.",
    # 15
    "Hackers broke into the computer systems of a large shipping company over the weekend, forcing it "
    "to halt bookings and delaying the unloading of containers at several ports, the company said "
    "on Monday.\n\n"
    "The company said it had taken its systems offline as a precaution after detecting the intrusion "
    "early on Saturday, and that it was working with outside security experts and the police. It did "
    "not say whether a ransom had been demanded.\n\n"
    "Customers were told to expect delays of several days. Port officials said trucks were queuing "
    "for hours at one terminal, where staff had switched to handling paperwork by hand.\n\n"
    "Attacks on transport and logistics firms have increased in recent years, according to security "
    "researchers, because disruptions can quickly become expensive.",
    # 16
    "A rocket carrying a weather satellite lifted off from the coastal launch site on Thursday "
    "morning after two earlier attempts were called off because of high winds.\n\n"
    "The satellite separated from the rocket's upper stage about 40 minutes after launch and sent its "
    "first signals to ground controllers shortly afterward, the space agency said.\n\n"
    "Once it reaches its final orbit, the satellite will take images of clouds and storms every five "
    "minutes, improving forecasts of severe weather. It is expected to begin regular operations in "
    "about six months, after a period of testing.\n\n"
    "The launch was the fourth from the site this year. The agency plans two more before the end of "
    "the year, including a mission to test a reusable first stage.",
    # 17
    "Archaeologists excavating ahead of a housing development have uncovered the remains of a Roman "
    "villa, including a well-preserved mosaic floor showing scenes of hunting and fishing.\n\n"
    "The villa appears to have been built in the second century and occupied for about 200 years, "
    "the excavation team said. Coins, pottery and parts of a heating system were also found.\n\n"
    "The developer has agreed to change the layout of the new homes so that the mosaic can be "
    "preserved where it lies, and a small public viewing area will be built over it.\n\n"
    "Local historians said the discovery confirmed long-held suspicions that a large estate stood on "
    "the site. The finds will be displayed at the county museum next year.",
    # 18
    "House prices fell for the fourth month in a row in August, as higher borrowing costs continued "
    "to weigh on demand, according to figures released by a major lender on Friday.\n\n"
    "The average price of a home dropped 0.8 percent from July and is now 3.2 percent lower than a "
    "year ago. Prices fell in every region except the far north, where they were flat.\n\n"
    "Estate agents reported that buyers were taking longer to decide and negotiating harder, while "
    "more sellers were cutting their asking prices to attract interest.\n\n"
    "Economists said prices could fall further over the winter but that a sharp crash was unlikely, "
    "because unemployment remains low and most homeowners are on fixed-rate mortgages.",
    # 19
    "More than 30,000 runners took part in the city marathon on Sunday, where a 24-year-old runner "
    "making her debut at the distance won the women's race in a course record time.\n\n"
    "She broke away from the leading group after about 30 kilometers and finished almost two minutes "
    "ahead of the defending champion. The men's race was decided in a sprint along the river, with "
    "the winner crossing the line less than a second ahead of his training partner.\n\n"
    "Cool temperatures and a light breeze made for good running conditions, organizers said. Medical "
    "teams treated about 200 runners, mostly for exhaustion and blisters.\n\n"
    "The race raised more than two million dollars for local charities, a record for the event.",
]

APPENDED = (
    " This story has been updated with additional reporting."
    " Officials did not immediately respond to a request for comment."
)
SENTENCE_END = re.compile(r"(?<=[.!?\"])\s+(?=[A-Z\"])")


def one_word_changed(body: str) -> str:
    """``body`` with its middle word replaced by another word."""
    words = list(re.finditer(r"\w+", body))
    middle = words[len(words) // 2]
    replacement = "changed" if middle.group().lower() != "changed" else "altered"
    return body[: middle.start()] + replacement + body[middle.end():]


def one_sentence_removed(body: str) -> str:
    """``body`` without its middle sentence."""
    paragraphs = [SENTENCE_END.split(p) for p in body.split("\n\n")]
    flat = [(i, j) for i, sentences in enumerate(paragraphs) for j in range(len(sentences))]
    i, j = flat[len(flat) // 2]
    del paragraphs[i][j]
    return "\n\n".join(" ".join(sentences) for sentences in paragraphs if sentences)


def two_sentences_appended(body: str) -> str:
    return body + APPENDED


EDITS = {
    "one_word_changed": one_word_changed,
    "one_sentence_removed": one_sentence_removed,
    "two_sentences_appended": two_sentences_appended,
}


# Measured on CORPUS (near_duplicate_figures in the fingerprints' tests): the store's decision,
# "shares one of 8 LSH bands of 2 values and has a 4-bit MinHash estimate of the Jaccard
# similarity >= threshold". The SimHash decision of the first version (distance <= 3) had
# precision 1.0 and recall 11/120; the 128 x 32-bit MinHash in 32 bands of 4 rows at 0.8 that
# followed had recall 73/120 (0.61; a removed sentence found 9 times of 20). No pair of different
# stories is estimated above 0.15, so precision stays 1.0 at every threshold here; recall is set
# by how much of a short text an edit touches: a removed sentence of 5-45 words leaves a true
# Jaccard similarity of 0.69-0.89 with the original, a removed sentence against two appended
# ones 0.60.
MEASURED = {
    # threshold: (tp, fp, fn, tn) over the 3,160 pairs, and the variants found per edit
    0.6: ((120, 0, 0, 3040),
          {"one_word_changed": 20, "one_sentence_removed": 20, "two_sentences_appended": 20}),
    0.65: ((115, 0, 5, 3040),
           {"one_word_changed": 20, "one_sentence_removed": 20, "two_sentences_appended": 20}),
    0.7: ((104, 0, 16, 3040),
          {"one_word_changed": 20, "one_sentence_removed": 20, "two_sentences_appended": 20}),
    0.8: ((74, 0, 46, 3040),
          {"one_word_changed": 20, "one_sentence_removed": 10, "two_sentences_appended": 20}),
    0.9: ((25, 0, 95, 3040),
          {"one_word_changed": 20, "one_sentence_removed": 1, "two_sentences_appended": 4}),
}
