"""Which language a text is written in, for pages that do not say: a small, fast identifier. Pure.

Two steps, both table-driven:

1. The script. Letters are counted by Unicode block; the script of most letters decides alone for
   the languages that have a script of their own (Greek, Hebrew, Thai, Devanagari for Hindi,
   Hangul for Korean, kana for Japanese; Han ideographs without kana are Chinese).
2. Within Latin, Cyrillic and Arabic script, function words: each language's most frequent short
   words ("the", "und", "در", "что"), plus the letters that only some of its neighbours use (ß, ñ,
   ã, ı, ł, پ, і ...). The language whose words and letters cover most of the text wins, if it
   covers enough of it and clearly more than the runner-up (by a share, or for close neighbours
   such as Danish and Norwegian, whose common words cancel out, by a few words of its own).

No answer (None) is better than a guess: too few letters, no clear winner, or a script whose
languages this table does not tell apart. Only the first SAMPLE_CHARS characters are read, so the
cost does not grow with the article. Codes are ISO 639-1.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

SAMPLE_CHARS = 3000
MIN_LETTERS = 20        # fewer letters than this say nothing reliable
MIN_COVERAGE = 0.08     # share of the words that must be the winner's function words
MIN_LEAD = 1.25         # how much more the winner must cover than the runner-up...
MIN_MARGIN = 3          # ...or by how many words (close neighbours share most function words)
MIN_KANA_SHARE = 0.1    # Japanese writes kana between its kanji; Chinese never does

# Scripts by code point range (the blocks news text uses; Arabic and CJK ones include their punctuation).
_SCRIPT_RANGES = (
    (0x0041, 0x005A, "latin"), (0x0061, 0x007A, "latin"), (0x00C0, 0x00D6, "latin"), (0x00D8, 0x00F6, "latin"),
    (0x00F8, 0x024F, "latin"), (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"), (0x1F00, 0x1FFF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0E00, 0x0E7F, "thai"),
    (0x3040, 0x30FF, "kana"), (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xF900, 0xFAFF, "han"),
    (0x1100, 0x11FF, "hangul"), (0x3130, 0x318F, "hangul"), (0xAC00, 0xD7AF, "hangul"),
)
# Scripts one language owns here.
_SCRIPT_LANGUAGE = {"greek": "el", "hebrew": "he", "devanagari": "hi", "bengali": "bn", "thai": "th",
                    "hangul": "ko", "kana": "ja"}

# The most frequent function words of each language, by script. Words shared by neighbours are
# listed for each of them (they cancel out); the words that tell neighbours apart decide.
FUNCTION_WORDS = {
    "latin": {
        "en": "the of and to a in is that for it was on with as he be by at are this have from or an they which "
              "but not had has were his her their its been will would who also more said than after about",
        "fr": "le la les de des du un une et est en que qui dans pour pas sur au aux par ne se ce il elle ont été "
              "sont avec plus son sa ses mais comme ou nous vous leur cette aussi selon après a à y l d qu",
        "de": "der die das und ist nicht ein eine zu den von mit sich des auf für im dem als auch es an werden aus "
              "er hat dass sie nach bei um noch wie über einen so zum war haben nur oder aber vor zur bis mehr "
              "durch wurde wird",
        "es": "el la de que y en los las del se por un una con no para es al lo como más pero sus le ya o fue "
              "este ha porque esta entre cuando muy sin sobre también hasta hay donde desde todo durante según",
        "pt": "o a os as de do da dos das e que em no na um uma para com não por se mais como mas foi ao ele "
              "ela seu sua ou ser quando muito há nos já está também pelo pela até isso entre depois sem aos "
              "seus são",
        "it": "il lo la i gli le di del della dei delle e è che un una per in con non si da al alla sono ha "
              "anche come più ma nel nella questo dal dalla ci era essere tra fra loro stato hanno degli sul "
              "l dell all nell sull",
        "nl": "de het een en van in is dat op te zijn met voor niet aan er die ook als bij door maar om dan uit "
              "over naar nog wordt werd of ze hij zij heeft hebben worden al was",
        "sv": "och i att det som en på är av för med till den har de inte om ett var jag men från ska vid kan "
              "efter sig så under också hade nu när eller han hon år blev",
        "da": "og i at det som en på er af for med til den har de ikke om et var jeg men fra skal ved kan "
              "efter sig så under også havde nu når eller han hun år blev hvor mig",
        "no": "og i at det som en på er av for med til den har de ikke om et var jeg men fra skal ved kan "
              "etter seg så under også hadde nå når eller han hun år ble hvor meg",
        "fi": "ja on ei se että oli hän mutta tai kun myös ovat kuin joka mitä niin ole sen olla jo vain nyt "
              "tämä hänen sekä jos mukaan vuonna",
        "pl": "i w na z że się nie do to jest o jak a po co tak za od ale czy przez przy już jego jej dla są "
              "był było była być oraz tylko może także który która które",
        "cs": "a v se na je že to s z do o jak ale i k by jsou byl bylo byla tak jeho pro které který která "
              "podle jako už nebo také při po od za",
        "ro": "și în de la a cu pe care este nu o un din că se mai sau pentru fost au al ale lui ei sunt dar "
              "fi acest această prin după",
        "hu": "a az és hogy nem is egy meg van volt de csak ez mint már kell még azt el ki be fel majd pedig "
              "vagy ha szerint után között",
        "tr": "ve bir bu da de için ile olarak çok daha olan gibi ama en sonra kadar ne her ya değil var mı o "
              "şu ise göre tarafından ancak yeni",
        "id": "yang dan di ini itu dengan untuk dari dalam tidak akan ke pada juga adalah ada oleh karena "
              "tersebut saat telah bisa mereka kami kita sudah",
        "vi": "của và là có trong được cho không với các những một này người đã để khi từ đến năm ra theo về "
              "cũng như tại sẽ",
    },
    "cyrillic": {
        "ru": "и в не на что с по он как это к из у о за от но то все она так его же для бы был было была "
              "были ли уже или только а при также может после",
        "uk": "і в не на що з та до у як це за від але й його він вона є було був була були вже також для "
              "може після які який яка щоб",
        "bg": "и в на е да се не за от с че по са като това но той тя ще във към или след още беше бяха има "
              "което които",
        "sr": "и у је да се на за не са од што из као су који која које али био била било ће по према",
    },
    "arabic": {
        "ar": "في من على إلى أن التي الذي عن مع هذا هذه كان ما لا أو بين قد وقد بعد ذلك حتى كما عند إن الى "
              "فى وفي ولم لم تم وقال أنه إنه كانت",
        "fa": "و در به از که این را با است برای آن یک هم تا شد می بود ها شده خود کرد کند نیز اما پس هر "
              "دارد باید",
        "ur": "کے میں کی ہے اور سے کو نے کہ پر یہ ہیں تھا بھی کا ایک لیے ہو گیا",
    },
}
# Letters only some languages of a script use: a word holding one counts for them.
MARKED_LETTERS = {
    "latin": {
        "ß": "de", "ñ": "es", "ã": "pt", "õ": "pt", "ı": "tr", "ğ": "tr", "ş": "tr", "ł": "pl", "ą": "pl",
        "ę": "pl", "ż": "pl", "ź": "pl", "ś": "pl", "ć": "pl", "ń": "pl", "ř": "cs", "ě": "cs", "ů": "cs",
        "ő": "hu", "ű": "hu", "ș": "ro", "ț": "ro", "ă": "ro vi", "đ": "vi", "ơ": "vi", "ư": "vi", "ạ": "vi",
        "ả": "vi", "ấ": "vi", "ầ": "vi", "ế": "vi", "ề": "vi", "ệ": "vi", "ộ": "vi", "ờ": "vi", "ủ": "vi",
        "æ": "da no", "ø": "da no", "å": "sv da no", "ä": "de sv fi", "ö": "de sv fi tr hu",
        "ü": "de tr hu", "ç": "fr pt tr", "è": "fr it", "ê": "fr pt", "à": "fr it pt", "ì": "it", "ò": "it",
    },
    "cyrillic": {"ы": "ru", "э": "ru", "ё": "ru", "і": "uk", "ї": "uk", "є": "uk", "ґ": "uk", "ъ": "bg ru",
                 "ђ": "sr", "ј": "sr", "љ": "sr", "њ": "sr", "ћ": "sr", "џ": "sr"},
    "arabic": {"پ": "fa ur", "چ": "fa ur", "ژ": "fa ur", "گ": "fa ur", "ک": "fa ur", "ی": "fa ur", "ٹ": "ur",
               "ڈ": "ur", "ڑ": "ur", "ں": "ur", "ے": "ur", "ہ": "ur", "ة": "ar", "ى": "ar"},
}

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_APOSTROPHE = re.compile(r"['’]")
# word -> the languages of its script whose function words include it
_LANGUAGES_OF_WORD = {
    script: {word: tuple(lang for lang, words in table.items() if word in words.split())
             for words in table.values() for word in words.split()}
    for script, table in FUNCTION_WORDS.items()
}
_MARKED_LETTER = {script: re.compile("[" + "".join(table) + "]") for script, table in MARKED_LETTERS.items()}
_LETTER_LANGUAGES = {script: {letter: tuple(langs.split()) for letter, langs in table.items()}
                     for script, table in MARKED_LETTERS.items()}


def identify_language(text: str | None) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, or None when unsure."""
    if not text:
        return None
    sample = text[:SAMPLE_CHARS]
    scripts: Counter = Counter()
    for char, count in Counter(sample).items():  # a text has few distinct characters: classify those
        script = _script_of(char)
        if script:
            scripts[script] += count
    if sum(scripts.values()) < MIN_LETTERS:
        return None
    script, _ = scripts.most_common(1)[0]
    if script in ("han", "kana"):
        kana = scripts["kana"]
        return "ja" if kana >= MIN_KANA_SHARE * (kana + scripts["han"]) else "zh"
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script]
    if script not in _LANGUAGES_OF_WORD:
        return None
    return _by_function_words(sample, script)


@lru_cache(maxsize=4096)
def _script_of(char: str) -> str | None:
    code = ord(char)
    for low, high, script in _SCRIPT_RANGES:
        if low <= code <= high:
            return script
    return None


def _by_function_words(text: str, script: str) -> str | None:
    lowered = text.lower()
    words = _WORD.findall(lowered)
    if not words:
        return None
    languages_of = _LANGUAGES_OF_WORD[script]
    scores: Counter = Counter()
    for word, count in Counter(words).items():
        languages = languages_of.get(word)
        if languages is None and ("'" in word or "’" in word):
            # "l'homme", "dell’Europa": the article before the apostrophe is the function word.
            languages = languages_of.get(_APOSTROPHE.split(word, 1)[0])
        for language in languages or ():
            scores[language] += count
    letter_languages = _LETTER_LANGUAGES[script]
    for letter, count in Counter(_MARKED_LETTER[script].findall(lowered)).items():
        for language in letter_languages[letter]:
            scores[language] += 0.5 * count
    if not scores:
        return None
    (best, top), *rest = scores.most_common(2) + [(None, 0)]
    runner_up = rest[0][1]
    if top < MIN_COVERAGE * len(words):
        return None
    return best if top >= MIN_LEAD * runner_up or top - runner_up >= MIN_MARGIN else None
