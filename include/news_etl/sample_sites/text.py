"""Invented news text for the sample publishers: headlines, paragraphs, names, comments.

Everything is built from the word banks below by a `random.Random` the caller seeds, so a story is
a pure function of its seed. The world is invented (countries, cities, people) and the tone is
neutral wire copy. Some names and all quotes use non-ASCII characters (’ “ ” Å ü ø) on purpose:
they catch pipelines that mangle encodings.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

COUNTRIES = (
    "Valdoria", "Marenth", "Ostravia", "Sulmarra", "Tarsk", "Belvane", "Kestria", "Orvand",
    "Lysmark", "Qadiran", "Nordhavn", "Carvela",
)
CITIES = (
    "Port Aldous", "Vessen", "Karsholm", "Ilmari", "Brønnvik", "São Leone", "Dumarre", "Hallstad",
    "Kóvar", "Tiberan", "Eastwick", "Mirabad",
)
INSTITUTIONS = (
    "the Central Statistics Office", "the Ministry of Water", "the Regional Assembly",
    "the Coastal Authority", "the National Rail Company", "the Harbour Council",
    "the University of Vessen", "the Grain Board", "the Institute for Public Health",
    "the Energy Regulator", "the Federation of Farmers", "the Chamber of Commerce",
)
FIRST_NAMES = (
    "Åsa", "Jürgen", "Leila", "Tomás", "Nadia", "Oskar", "Mei", "Kwame", "Inés", "Farid",
    "Siobhán", "Dmitri", "Chiara", "Ravi", "Zoë", "Emeka", "Hana", "Björn", "Amara", "Nils",
)
LAST_NAMES = (
    "Lindqvist", "Müller", "Haddad", "Ortega", "Karimi", "Nakamura", "Mensah", "Dubois", "Novák",
    "Reyes", "Søndergaard", "Petrov", "O’Neill", "Castillo", "Rahimi", "Ekström", "Adeyemi", "Varga",
)
ROLES = (
    "a spokeswoman for {institution}", "the head of {institution}", "the mayor of {city}",
    "an economist at {institution}", "the foreign minister of {country}", "a senior official in {city}",
    "a spokesman for {institution}", "a lawmaker from {city}",
)
TOPICS = (
    "water rights", "fishing quotas", "rail links", "grain exports", "energy prices", "port fees",
    "border checks", "river dams", "visa rules", "power lines",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# A headline is a main clause, sometimes followed by a tail that starts with one of these words.
# The main clauses never contain them, so the short "lead" of a headline is the text before them.
TAIL_WORDS = ("amid", "after", "despite", "as")
HEADLINE_TAILS = (
    "amid Rising Costs", "after Weeks of Talks", "despite Protests", "as Talks Stall",
    "amid Calls for Calm", "after Heavy Rain", "despite Budget Concerns", "as Winter Approaches",
)

# Headlines per section, in title case; {placeholders} come from the story's cast.
HEADLINES = {
    "World": (
        "{country} and {country2} Agree to Reopen Border Crossings",
        "{country} Recalls Envoy from {country2} in Dispute over {Topic}",
        "{country} Says Closer Ties with {country2} Strengthen Regional Security",
        "Leaders of {country} and {country2} to Meet in {city}",
        "{country} Offers to Mediate between {country2} and Its Neighbours",
        "Ferry Link between {city} and {city2} Resumes",
    ),
    "Politics": (
        "{country} Parliament Passes Bill on {Topic}",
        "{person} Wins Party Vote to Lead {country} Opposition",
        "{country} Sets Date for Early Election",
        "Coalition in {country} Agrees New Budget",
        "{city} Mayor {person} Faces Confidence Vote",
        "{country} Cabinet Approves Reform of {Topic}",
    ),
    "Economy": (
        "{country} Inflation Slows to {pct} Percent",
        "{country} Central Bank Holds Rates at {pct2} Percent",
        "{city} Port Reports Record Cargo Volumes",
        "{country} Signs {amount} Deal to Modernise Railways",
        "Jobless Rate in {country} Falls to {pct} Percent",
        "{country} Raises Tax on Imported Fuel",
    ),
    "Science": (
        "Researchers in {city} Map Deep-Sea Vents off {country}",
        "{country} Launches Its First Weather Satellite",
        "Scientists Find New Fern Species near {city}",
        "{city} Observatory Tracks Unusual Comet",
        "Study Links Warmer Winters to Fewer Birds in {country}",
    ),
    "Sport": (
        "{city} Beat {city2} {score} in Cup Final",
        "{person} Sets National Record in 800 Metres",
        "{country} Named Host of {year} Rowing Championships",
        "{city} Name {person} Head Coach",
        "{country} Women Reach Handball Semi-Finals",
    ),
    "Environment": (
        "Floods Force {n} Families from Homes in {city}",
        "{country} Bans Single-Use Plastics from {year}",
        "{city} Opens Its Largest Solar Farm",
        "Drought Cuts {country} Wheat Harvest by {pct} Percent",
        "{country} Creates Marine Reserve off {city}",
    ),
    "Health": (
        "{country} Opens {n} New Rural Clinics",
        "{city} Hospitals Report Rise in Flu Cases",
        "{country} Extends Free School Meals",
        "Vaccination Drive Reaches {n},000 Children in {country}",
    ),
    "Culture": (
        "{city} Film Festival Opens with Record Attendance",
        "Lost Manuscript Returned to {city} Library",
        "{country} National Museum Reopens to Visitors",
        "Folk Musicians from {country} Tour {country2}",
    ),
}
SECTIONS = tuple(HEADLINES)

# Sentences per section; every story also draws from GENERAL_SENTENCES.
SENTENCES = {
    "World": (
        "Officials from {country} and {country2} met in {city} on {weekday} to discuss {topic}.",
        "The two governments have disagreed over {topic} for more than {n} years.",
        "Diplomats said a joint statement could be issued within {n} days.",
        "Trade between the two neighbours reached {amount} last year, according to {institution}.",
        "Travellers between {city} and {city2} have faced long delays since the spring.",
        "{country2} has not yet commented on the proposal.",
    ),
    "Politics": (
        "The bill passed by {votes_for} votes to {votes_against} after a debate that ran late into {weekday}.",
        "Opposition members said the government had rushed the vote.",
        "Polls suggest that support for the governing coalition has fallen to {pct} percent.",
        "The new rules on {topic} are due to take effect next year.",
        "{person2}, {role2}, called the result “a clear message from voters”.",
        "Party leaders are expected to meet again in {city} next week.",
    ),
    "Economy": (
        "Consumer prices rose {pct} percent in the year to last month, {institution} said.",
        "Fuel and food costs were the main drivers of the change.",
        "Analysts had expected a figure of around {pct2} percent.",
        "Exporters in {city} said higher {topic} were squeezing their margins.",
        "The government forecasts growth of {pct2} percent this year.",
        "Shares in {city} closed slightly higher on {weekday}.",
    ),
    "Science": (
        "The team used an underwater robot to collect samples at a depth of {big_n} metres.",
        "Their findings were published in a peer-reviewed journal on {weekday}.",
        "Researchers said the work took {n} years and involved {small_n} institutions.",
        "Similar studies in {country2} have reached comparable conclusions.",
        "Data from the project will be shared freely with other laboratories.",
    ),
    "Sport": (
        "A crowd of {big_n} watched the match in {city}.",
        "The winning goal came {n} minutes from the end.",
        "It is the club’s first trophy in {small_n} seasons.",
        "The coach praised the players’ discipline in defence.",
        "The team will begin its league campaign next month.",
    ),
    "Environment": (
        "Emergency crews worked through the night to reinforce river banks near {city}.",
        "{institution} said rainfall in the region was {pct} percent above average.",
        "Environmental groups welcomed the decision but urged faster action.",
        "The reserve will cover an area of {big_n} square kilometres.",
        "Farmers said the dry spring had cut yields across the valley.",
    ),
    "Health": (
        "The clinics will serve villages up to {n} hours from the nearest hospital.",
        "{institution} said the number of cases had doubled in {small_n} weeks.",
        "Doctors advised older people to seek vaccination before the winter.",
        "The programme will cost {amount} over three years.",
        "Nurses’ unions said staffing remained a concern.",
    ),
    "Culture": (
        "More than {big_n} visitors are expected over the {n} days of the event.",
        "The manuscript had been missing since the {year_past}s.",
        "Curators spent {small_n} years restoring the building’s painted ceilings.",
        "Tickets for the opening night sold out within hours.",
        "The programme includes works by artists from {country2} and {country}.",
    ),
}
GENERAL_SENTENCES = (
    "The announcement was welcomed by business groups in {city}.",
    "Critics said the measures did not go far enough.",
    "{institution} is expected to publish further details next month.",
    "Local media reported that {big_n} people had followed the debate online.",
    "It was not immediately clear how the plan would be funded.",
    "{person}, {role}, said the decision followed months of consultation.",
    "The issue has dominated public debate in {country} since last year.",
    "Residents of {city} gave the news a mixed reception.",
    "A review of the policy is planned for {year}.",
    "Officials declined to give a timetable.",
    "The figures were broadly in line with those of neighbouring countries.",
    "{person2} told reporters the situation was being monitored closely.",
)
QUOTES = (
    "“We have listened to people’s concerns and we will act on them,” {person} said.",
    "“This is a good day for {city},” said {person}, {role}.",
    "“Nobody expected things to move this quickly,” {person2} said.",
    "“There is still a lot of work ahead of us,” said {person2}, {role2}.",
    "“Our priority is to keep people safe and informed,” {person} said.",
    "“We want a solution that works for both sides,” {person} told reporters in {city}.",
)
COMMENTS = (
    "Good to see this covered at last.",
    "I’m not convinced the numbers add up.",
    "We felt the effects of this in our town months ago.",
    "Thanks for a clear and balanced report.",
    "Who is going to pay for all of this?",
    "My grandmother lived in {city} and she’d have loved to read this.",
)
PHOTO_CAPTIONS = (
    "The harbour at {city} early on {weekday} morning.",
    "People walk past the government building in {city}.",
    "A view of the river near {city2}.",
    "Delegates arrive for the meeting in {city}.",
)


_LETTERS_WITHOUT_DECOMPOSITION = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d"}
)


@dataclass(frozen=True)
class Story:
    """The text of one article as the generator wrote it."""

    title: str
    paragraphs: tuple[str, ...]


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def author_names(rng: random.Random, count: int) -> tuple[str, ...]:
    """`count` distinct bylines."""
    names: list[str] = []
    while len(names) < count:
        name = person_name(rng)
        if name not in names:
            names.append(name)
    return tuple(names)


def write_story(rng: random.Random, section: str, weekday: int) -> Story:
    """One story: a headline and 4 to 9 paragraphs of 1 to 4 sentences, one of them a quote.

    `weekday` (0 = Monday) is the publication day, so "on Tuesday" in the text is plausible.
    """
    cast = _cast(rng, weekday)
    sentences = [_capitalize(s.format(**cast)) for s in SENTENCES[section] + GENERAL_SENTENCES]
    return assemble_story(rng, cast, HEADLINES[section], HEADLINE_TAILS, sentences, QUOTES)


def assemble_story(rng: random.Random, cast: dict[str, str], headlines, tails, sentences: list[str], quotes,
                   opening=lambda paragraph: paragraph) -> Story:
    """A story in any language: one of `headlines` (with one of `tails` 40% of the time), then the
    `sentences` (filled in already) shuffled into 3 to 8 paragraphs, the first passed through
    `opening`, and one of `quotes` as a paragraph of its own, all with the story's `cast`."""
    title = rng.choice(headlines).format(**cast)
    if rng.random() < 0.4:
        title = f"{title} {rng.choice(tails)}"
    sentences = list(sentences)
    rng.shuffle(sentences)
    paragraphs = _group_into_paragraphs(rng, sentences, rng.randint(3, 8))
    paragraphs[0] = opening(paragraphs[0])
    # The quote stands alone, as wire copy does, so templates can present it as a blockquote.
    quote = rng.choice(quotes).format(**cast)
    paragraphs.insert(rng.randint(1, len(paragraphs) - 1), quote)
    return Story(title=title, paragraphs=tuple(paragraphs))


def headline_lead(title: str) -> str:
    """The short restatement of a headline a subtitle shows: the headline without its tail."""
    cut = min((i for w in TAIL_WORDS if (i := title.find(f" {w} ")) >= 0), default=len(title))
    return title[:cut]


def is_quote(paragraph: str) -> bool:
    return paragraph.startswith("“")


def reader_comments(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(commenter, text) pairs for a comment thread."""
    city = rng.choice(CITIES)
    return [(person_name(rng), rng.choice(COMMENTS).format(city=city)) for _ in range(count)]


def photo_caption(rng: random.Random, weekday: int) -> str:
    cast = _cast(rng, weekday)
    return f"{rng.choice(PHOTO_CAPTIONS).format(**cast)} Photo: {person_name(rng)}"


def slugify(title: str, max_length: int = 80) -> str:
    """URL slug: ASCII, lower case, words joined by hyphens, cut at a word boundary."""
    # Accents come off by decomposition (é -> e); letters that do not decompose need a table.
    spelled = title.translate(_LETTERS_WITHOUT_DECOMPOSITION)
    ascii_title = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug


def _capitalize(sentence: str) -> str:
    """'the Grain Board said ...' -> 'The Grain Board said ...' when a name starts the sentence."""
    return sentence[:1].upper() + sentence[1:]


def _cast(rng: random.Random, weekday: int) -> dict[str, str]:
    """The places, people and numbers one story talks about, drawn once so the text agrees."""
    country, country2 = rng.sample(COUNTRIES, 2)
    city, city2 = rng.sample(CITIES, 2)
    institution = rng.choice(INSTITUTIONS)
    topic = rng.choice(TOPICS)
    place = {"country": country, "city": city, "institution": institution}
    goals = sorted(rng.sample(range(5), 2), reverse=True)
    return {
        "country": country,
        "country2": country2,
        "city": city,
        "city2": city2,
        "institution": institution,
        "topic": topic,
        "Topic": topic.title(),
        "person": person_name(rng),
        "person2": person_name(rng),
        "role": rng.choice(ROLES).format(**place),
        "role2": rng.choice(ROLES).format(**place),
        "pct": f"{rng.randint(11, 89) / 10:.1f}",
        "pct2": f"{rng.randint(11, 89) / 10:.1f}",
        "n": str(rng.randint(2, 12)),
        "small_n": str(rng.randint(2, 9)),
        "big_n": f"{rng.randint(12, 480) * 100:,}",
        "amount": f"${rng.randint(12, 950)} million",
        "year": str(rng.randint(2025, 2031)),
        "year_past": str(rng.randint(192, 198) * 10),
        "score": f"{goals[0]}-{goals[1]}",
        "votes_for": str(rng.randint(60, 120)),
        "votes_against": str(rng.randint(20, 59)),
        "weekday": WEEKDAYS[weekday],
    }


def _group_into_paragraphs(rng: random.Random, sentences: list[str], count: int) -> list[str]:
    paragraphs = []
    remaining = list(sentences)
    for _ in range(count):
        size = rng.randint(1, 4)
        taken, remaining = remaining[:size], remaining[size:]
        if not taken:
            break
        paragraphs.append(" ".join(taken))
    return paragraphs
