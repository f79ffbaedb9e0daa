"""Month and week-day names in the languages news sites write dates in, for dates.py.

A full name in any listed language is read; so is a prefix of three letters or more ("Sept",
"févr.", "Okt") of a name in a language that abbreviates that way, when every such name it starts
points to the same month ("Jui" could be juin or juillet and is not read). Names are matched in
lower case, without a trailing dot. Arabic is read in the Gregorian month names of Egypt and the
Gulf (يناير ... ديسمبر), with and without hamza; Arabic names are never abbreviated.
"""

from __future__ import annotations

MONTHS_BY_LANGUAGE = {
    "en": "january february march april may june july august september october november december",
    "de": "januar februar märz april mai juni juli august september oktober november dezember",
    "de-at": "jänner februar märz april mai juni juli august september oktober november dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "es-alt": "enero febrero marzo abril mayo junio julio agosto setiembre octubre noviembre diciembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "da-no": "januar februar marts april maj juni juli august september oktober november december",
    "no": "januar februar mars april mai juni juli august september oktober november desember",
    "fi": "tammikuuta helmikuuta maaliskuuta huhtikuuta toukokuuta kesäkuuta heinäkuuta elokuuta "
          "syyskuuta lokakuuta marraskuuta joulukuuta",
    "pl": "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia",
    "pl-nominative": "styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień",
    "cs": "ledna února března dubna května června července srpna září října listopadu prosince",
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "ru-nominative": "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь",
    "uk": "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня",
    "tr": "ocak şubat mart nisan mayıs haziran temmuz ağustos eylül ekim kasım aralık",
    "id": "januari februari maret april mei juni juli agustus september oktober november desember",
    "ro": "ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie decembrie",
    "hu": "január február március április május június július augusztus szeptember október november december",
    "ar": "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر",
    "ar-alt": "يناير فبراير مارس ابريل مايو يونيه يوليه اغسطس سبتمبر اكتوبر نوفمبر ديسمبر",
}

# Languages whose month abbreviations are prefixes of the name ("Sept", "févr", "Okt", "Set").
ABBREVIATING = ("en", "de", "de-at", "fr", "es", "es-alt", "pt", "it", "nl", "sv", "da-no", "no", "id", "ro")

WEEKDAYS_BY_LANGUAGE = {
    "en": "monday tuesday wednesday thursday friday saturday sunday",
    "de": "montag dienstag mittwoch donnerstag freitag samstag sonntag sonnabend",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
    "pt": "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo",
    "it": "lunedì martedì mercoledì giovedì venerdì sabato domenica",
    "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
    "sv": "måndag tisdag onsdag torsdag fredag lördag söndag",
    "da-no": "mandag tirsdag onsdag torsdag fredag lørdag søndag",
    "fi": "maanantai tiistai keskiviikko torstai perjantai lauantai sunnuntai",
    "pl": "poniedziałek wtorek środa czwartek piątek sobota niedziela",
    "ru": "понедельник вторник среда четверг пятница суббота воскресенье",
    "tr": "pazartesi salı çarşamba perşembe cuma cumartesi pazar",
    "id": "senin selasa rabu kamis jumat sabtu minggu",
    "ar": "الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت الأحد الإثنين الاربعاء الاحد",
}
# Languages whose week-day names are never shortened: only their full names are names.
UNABBREVIATED_WEEKDAYS = ("ar",)
# Abbreviations in use that are not prefixes of the full name.
ODD_WEEKDAYS = {"weds", "thur", "thurs", "tues", "seg", "ter", "qua", "qui", "sex", "sáb", "dom"}


def _month_names() -> dict[str, int]:
    full: dict[str, int] = {}
    for names in MONTHS_BY_LANGUAGE.values():
        for number, name in enumerate(names.split(), start=1):
            full[name] = number
    prefixes: dict[str, set[int]] = {}
    for language in ABBREVIATING:
        for number, name in enumerate(MONTHS_BY_LANGUAGE[language].split(), start=1):
            for end in range(3, len(name)):
                prefixes.setdefault(name[:end], set()).add(number)
    unique = {prefix: numbers.pop() for prefix, numbers in prefixes.items() if len(numbers) == 1}
    return {**unique, **full}


def _weekday_names() -> set[str]:
    names = set(ODD_WEEKDAYS)
    for language, words in WEEKDAYS_BY_LANGUAGE.items():
        for name in words.split():
            shortest = len(name) if language in UNABBREVIATED_WEEKDAYS else 2
            names.update(name[:end] for end in range(shortest, len(name) + 1))
    return names


# name or unambiguous prefix -> month number
MONTH_NUMBERS = _month_names()
# every week-day name and prefix of two letters or more ("Mo", "Seg", "Donnerstag")
WEEKDAY_NAMES = frozenset(_weekday_names())


def month_number(name: str) -> int | None:
    return MONTH_NUMBERS.get(name.lower().rstrip("."))


def is_weekday(name: str) -> bool:
    return name.lower().rstrip(".") in WEEKDAY_NAMES
