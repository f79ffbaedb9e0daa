"""Invented news text in Arabic for the right-to-left sample publisher: headlines, paragraphs, names.

The same invented world as `text` (Valdoria, Port Aldous, ...), written in Arabic script, in plain
template sentences whose slots are filled from a story's cast. The templates are built so that
every filled sentence stays grammatical: countries and cities are the subjects of feminine verbs;
a person's verbs and title agree with the person (`said` is قال or قالت); institutions appear only
after a preposition, where nothing agrees with them; and numbers are drawn from ranges whose
counted noun has one correct form (3 to 10 take a plural, hundreds a singular). Digits are ASCII,
as many Arabic news sites write them, and windows-1256 has no Arabic-Indic digits anyway.
"""

from __future__ import annotations

import random
import re
from urllib.parse import quote

from news_etl.sample_sites.text import Story, assemble_story

COUNTRIES = (
    "فالدوريا", "مارينث", "أوسترافيا", "سولمارا", "تارسك", "بلفان", "كستريا", "أورفاند", "ليسمارك", "قادران",
    "نوردهافن", "كارفيلا",
)
CITIES = (
    "بورت ألدوس", "فيسن", "كارسهولم", "إلماري", "برونفيك", "ساو ليوني", "دومار", "هالستاد", "كوفار", "تيبيران",
    "إيستويك", "ميراباد",
)
INSTITUTIONS = (
    "المكتب المركزي للإحصاء", "وزارة المياه", "المجلس الإقليمي", "هيئة السواحل", "الشركة الوطنية للسكك الحديدية",
    "مجلس الميناء", "جامعة فيسن", "هيئة الحبوب", "معهد الصحة العامة", "هيئة تنظيم الطاقة", "اتحاد المزارعين",
    "غرفة التجارة",
)
MALE_NAMES = ("سامي", "كريم", "عمر", "يوسف", "طارق", "نبيل", "هشام", "رامي", "وليد", "باسل")
FEMALE_NAMES = ("ليلى", "سلمى", "رنا", "هالة", "دينا", "منى", "نادية", "ريم", "سارة", "لينا")
FAMILY_NAMES = (
    "الزيتوني", "البحراوي", "الجبالي", "الرملي", "العطار", "النجار", "الصباغ", "القاضي", "الخطيب", "السنديوني",
    "الفخراني", "المرجاني",
)
# (masculine, feminine) forms of a title written after a name.
ROLES = (
    ("المتحدث باسم {institution}", "المتحدثة باسم {institution}"),
    ("رئيس {institution}", "رئيسة {institution}"),
    ("الخبير الاقتصادي في {institution}", "الخبيرة الاقتصادية في {institution}"),
    ("وزير خارجية {country}", "وزيرة خارجية {country}"),
    ("مسؤول رفيع في {city}", "مسؤولة رفيعة في {city}"),
    ("النائب عن {city}", "النائبة عن {city}"),
)
TOPICS = (
    "حقوق المياه", "حصص الصيد", "خطوط السكك الحديدية", "صادرات الحبوب", "أسعار الطاقة", "رسوم الموانئ",
    "إجراءات الحدود", "السدود النهرية", "قواعد التأشيرات", "خطوط الكهرباء",
)
WEEKDAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
DECADES = ("العشرينيات", "الثلاثينيات", "الأربعينيات", "الخمسينيات", "الستينيات", "السبعينيات", "الثمانينيات")
# The sections of `text`, as the site names them.
SECTION_NAMES = {
    "World": "دولي", "Politics": "سياسة", "Economy": "اقتصاد", "Science": "علوم", "Sport": "رياضة",
    "Environment": "بيئة", "Health": "صحة", "Culture": "ثقافة",
}

HEADLINE_TAILS = (
    "وسط ارتفاع التكاليف", "بعد أسابيع من المحادثات", "رغم الاحتجاجات", "مع تعثر المحادثات",
    "وسط دعوات إلى التهدئة", "بعد أمطار غزيرة", "رغم المخاوف بشأن الموازنة", "مع اقتراب فصل الشتاء",
)
HEADLINES = {
    "World": (
        "{country} و{country2} تتفقان على إعادة فتح المعابر الحدودية",
        "{country} تستدعي سفيرها لدى {country2} بسبب خلاف حول {topic}",
        "{country} تقول إن تعزيز العلاقات مع {country2} يدعم الأمن الإقليمي",
        "قادة {country} و{country2} يلتقون في {city}",
        "{country} تعرض الوساطة بين {country2} وجيرانها",
        "استئناف خط العبارات بين {city} و{city2}",
    ),
    "Politics": (
        "برلمان {country} يقر قانونا بشأن {topic}",
        "{country} تحدد موعدا لانتخابات مبكرة",
        "الائتلاف الحاكم في {country} يتفق على موازنة جديدة",
        "حكومة {country} توافق على خطة جديدة بشأن {topic}",
        "المعارضة في {country} تنتخب قيادة جديدة",
        "مجلس مدينة {city} يصوت على سحب الثقة من العمدة",
    ),
    "Economy": (
        "التضخم في {country} يتباطأ إلى {pct} في المئة",
        "البنك المركزي في {country} يبقي أسعار الفائدة عند {pct2} في المئة",
        "ميناء {city} يسجل حجما قياسيا من البضائع",
        "{country} توقع صفقة بقيمة {amount} مليون دولار لتحديث السكك الحديدية",
        "معدل البطالة في {country} ينخفض إلى {pct} في المئة",
        "{country} ترفع الضريبة على الوقود المستورد",
    ),
    "Science": (
        "باحثون في {city} يرسمون خريطة لفتحات حرارية في أعماق البحر قبالة {country}",
        "{country} تطلق أول قمر صناعي للأرصاد الجوية",
        "علماء يكتشفون نوعا جديدا من السرخس قرب {city}",
        "مرصد {city} يتابع مذنبا غير مألوف",
        "دراسة تربط الشتاء الدافئ بتراجع أعداد الطيور في {country}",
    ),
    "Sport": (
        "فريق {city} يفوز على فريق {city2} بنتيجة {score} في نهائي الكأس",
        "عداء من {country} يحطم الرقم الوطني في سباق 800 متر",
        "{country} تستضيف بطولة التجديف عام {year}",
        "نادي {city} يعلن التعاقد مع مدرب جديد",
        "منتخب {country} لكرة اليد للسيدات يبلغ الدور نصف النهائي",
    ),
    "Environment": (
        "الفيضانات تجبر مئات العائلات على مغادرة منازلها في {city}",
        "{country} تحظر البلاستيك أحادي الاستخدام اعتبارا من عام {year}",
        "{city} تفتتح أكبر مزرعة للطاقة الشمسية فيها",
        "الجفاف يقلص محصول القمح في {country} بنسبة {pct} في المئة",
        "{country} تنشئ محمية بحرية قبالة {city}",
    ),
    "Health": (
        "{country} تفتتح عيادات ريفية جديدة",
        "مستشفيات {city} تسجل ارتفاعا في إصابات الإنفلونزا",
        "{country} تمدد برنامج الوجبات المدرسية المجانية",
        "حملة التطعيم في {country} تصل إلى آلاف الأطفال",
    ),
    "Culture": (
        "مهرجان {city} السينمائي ينطلق بحضور قياسي",
        "إعادة مخطوطة مفقودة إلى مكتبة {city}",
        "المتحف الوطني في {country} يعيد فتح أبوابه للزوار",
        "موسيقيون شعبيون من {country} يجولون في {country2}",
    ),
}

SENTENCES = {
    "World": (
        "والتقى مسؤولون من {country} و{country2} في {city} يوم {weekday} لبحث ملف {topic}.",
        "وتختلف الحكومتان حول ملف {topic} منذ أكثر من {small_n} سنوات.",
        "وقال دبلوماسيون إن بيانا مشتركا قد يصدر خلال {small_n} أيام.",
        "وبلغ حجم التجارة بين البلدين {amount} مليون دولار العام الماضي، بحسب {institution}.",
        "ويواجه المسافرون بين {city} و{city2} تأخيرات طويلة منذ الربيع.",
        "ولم تعلق {country2} على الاقتراح حتى الآن.",
    ),
    "Politics": (
        "وأقر البرلمان القانون بأغلبية {votes_for} صوتا مقابل {votes_against} صوتا بعد نقاش استمر حتى ساعة "
        "متأخرة من يوم {weekday}.",
        "وقال نواب المعارضة إن الحكومة تعجلت في التصويت.",
        "وتشير استطلاعات الرأي إلى تراجع التأييد للائتلاف الحاكم إلى {pct} في المئة.",
        "ومن المقرر أن تدخل القواعد الجديدة بشأن {topic} حيز التنفيذ العام المقبل.",
        "و{said2} {person2}، {role2}، إن النتيجة «رسالة واضحة من الناخبين».",
        "ومن المتوقع أن يجتمع قادة الأحزاب مجددا في {city} الأسبوع المقبل.",
    ),
    "Economy": (
        "وارتفعت أسعار المستهلكين بنسبة {pct} في المئة خلال العام المنتهي في الشهر الماضي، بحسب {institution}.",
        "وكانت تكاليف الوقود والغذاء المحرك الرئيسي لهذا التغير.",
        "وكان المحللون يتوقعون رقما في حدود {pct2} في المئة.",
        "وقال مصدرون في {city} إن ارتفاع التكاليف يضغط على هوامش أرباحهم.",
        "وتتوقع الحكومة نموا بنسبة {pct2} في المئة هذا العام.",
        "وأغلقت الأسهم في {city} على ارتفاع طفيف يوم {weekday}.",
    ),
    "Science": (
        "واستخدم الفريق روبوتا تحت الماء لجمع عينات على عمق {depth} متر.",
        "ونشرت نتائج الدراسة في مجلة علمية محكمة يوم {weekday}.",
        "وقال الباحثون إن العمل استغرق {small_n} سنوات وشاركت فيه {small_n2} مؤسسات.",
        "وتوصلت دراسات مماثلة في {country2} إلى نتائج متقاربة.",
        "وستتاح بيانات المشروع مجانا لمختبرات أخرى.",
    ),
    "Sport": (
        "وتابع المباراة {big_n} متفرج في {city}.",
        "وجاء هدف الفوز قبل {small_n} دقائق من نهاية المباراة.",
        "وهذا أول لقب للنادي منذ {small_n} مواسم.",
        "وأشاد المدرب بانضباط اللاعبين في الدفاع.",
        "ويبدأ الفريق مشواره في الدوري الشهر المقبل.",
    ),
    "Environment": (
        "وعملت فرق الطوارئ طوال الليل لتدعيم ضفاف النهر قرب {city}.",
        "وبحسب {institution}، تجاوزت الأمطار في المنطقة معدلها المعتاد بنسبة {pct} في المئة.",
        "ورحبت جماعات البيئة بالقرار لكنها دعت إلى تحرك أسرع.",
        "وستمتد المحمية على مساحة {big_n} كيلومتر مربع.",
        "وقال مزارعون إن الربيع الجاف أدى إلى تراجع المحاصيل في أنحاء الوادي.",
    ),
    "Health": (
        "وستخدم العيادات قرى تبعد حتى {small_n} ساعات عن أقرب مستشفى.",
        "وبحسب {institution}، تضاعف عدد الإصابات خلال {small_n} أسابيع.",
        "ونصح الأطباء كبار السن بالحصول على اللقاح قبل الشتاء.",
        "وستبلغ كلفة البرنامج {amount} مليون دولار على مدى ثلاث سنوات.",
        "وقالت نقابات التمريض إن نقص الكوادر لا يزال مصدر قلق.",
    ),
    "Culture": (
        "ومن المتوقع أن يزور الحدث أكثر من {big_n} زائر على مدى {small_n} أيام.",
        "وكانت المخطوطة مفقودة منذ {decade} من القرن الماضي.",
        "وأمضى القيمون {small_n} سنوات في ترميم الأسقف المزخرفة للمبنى.",
        "ونفدت تذاكر ليلة الافتتاح في غضون ساعات.",
        "ويتضمن البرنامج أعمالا لفنانين من {country2} و{country}.",
    ),
}
GENERAL_SENTENCES = (
    "ورحبت مجموعات الأعمال في {city} بالإعلان.",
    "وقال منتقدون إن الإجراءات غير كافية.",
    "ومن المنتظر صدور مزيد من التفاصيل عن {institution} الشهر المقبل.",
    "وذكرت وسائل إعلام محلية أن {big_n} شخص تابعوا النقاش عبر الإنترنت.",
    "ولم يتضح على الفور كيف سيتم تمويل الخطة.",
    "و{said} {person}، {role}، إن القرار جاء بعد أشهر من المشاورات.",
    "ويهيمن هذا الملف على النقاش العام في {country} منذ العام الماضي.",
    "وتباينت ردود فعل سكان {city} على الخبر.",
    "ومن المقرر مراجعة السياسة في عام {year}.",
    "ورفض المسؤولون تحديد جدول زمني.",
    "وجاءت الأرقام متوافقة إلى حد كبير مع أرقام الدول المجاورة.",
    "و{said2} {person2} للصحفيين إن الوضع يخضع لمراقبة دقيقة.",
)
QUOTES = (
    "و{said} {person}: «استمعنا إلى مخاوف الناس وسنعمل على معالجتها».",
    "و{said} {person}، {role}: «هذا يوم جيد لسكان {city}».",
    "و{said2} {person2}: «لم يتوقع أحد أن تتحرك الأمور بهذه السرعة».",
    "و{said2} {person2}، {role2}: «ما زال أمامنا عمل كثير».",
    "و{said} {person}: «أولويتنا هي حماية الناس وإبقاؤهم على اطلاع».",
    "و{said} {person} للصحفيين في {city}: «نريد حلا يناسب الطرفين».",
)
READ_ALSO = "اقرأ أيضا"

# Letters kept in a URL slug: Arabic letters (no diacritics, no tatweel), ASCII letters and digits.
_SLUG_WORD = re.compile(r"[\u0621-\u063a\u0641-\u064aa-z0-9]+")


def person_name(rng: random.Random) -> tuple[str, bool]:
    """(full name, whether the person is a woman)."""
    woman = rng.random() < 0.5
    first = rng.choice(FEMALE_NAMES if woman else MALE_NAMES)
    return f"{first} {rng.choice(FAMILY_NAMES)}", woman


def author_name(rng: random.Random) -> str:
    return person_name(rng)[0]


def write_story(rng: random.Random, section: str, weekday: int) -> Story:
    """One story: a headline and 4 to 9 paragraphs of 1 to 4 sentences, one of them a quote."""
    cast = _cast(rng, weekday)
    sentences = [s.format(**cast) for s in SENTENCES[section] + GENERAL_SENTENCES]
    # Every sentence goes on from the one before it ("wa-", and); the story's first one does not.
    return assemble_story(rng, cast, HEADLINES[section], HEADLINE_TAILS, sentences, QUOTES,
                          opening=lambda paragraph: paragraph.removeprefix("و"))


def slugify(title: str, max_words: int = 6) -> str:
    """URL slug of an Arabic headline, percent-encoded (UTF-8) as browsers send it."""
    words = _SLUG_WORD.findall(title.lower())[:max_words]
    return quote("-".join(words), safe="-")


def _cast(rng: random.Random, weekday: int) -> dict[str, str]:
    """The places, people and numbers one story talks about, drawn once so the text agrees."""
    country, country2 = rng.sample(COUNTRIES, 2)
    city, city2 = rng.sample(CITIES, 2)
    place = {"country": country, "city": city, "institution": rng.choice(INSTITUTIONS)}
    person, person_is_woman = person_name(rng)
    person2, person2_is_woman = person_name(rng)
    goals = sorted(rng.sample(range(5), 2), reverse=True)
    return {
        "country": country,
        "country2": country2,
        "city": city,
        "city2": city2,
        "institution": place["institution"],
        "topic": rng.choice(TOPICS),
        "person": person,
        "person2": person2,
        "said": "قالت" if person_is_woman else "قال",
        "said2": "قالت" if person2_is_woman else "قال",
        "role": rng.choice(ROLES)[person_is_woman].format(**place),
        "role2": rng.choice(ROLES)[person2_is_woman].format(**place),
        "pct": f"{rng.randint(11, 89) / 10:.1f}",
        "pct2": f"{rng.randint(11, 89) / 10:.1f}",
        # 3 to 10 count a plural noun ("5 سنوات"); other small numbers would need other forms.
        "small_n": str(rng.randint(3, 10)),
        "small_n2": str(rng.randint(3, 10)),
        # Whole hundreds count a singular noun ("4800 متر", "2500 شخص").
        "big_n": str(rng.randint(12, 480) * 100),
        "depth": str(rng.randint(12, 48) * 100),
        "amount": str(rng.randint(12, 950)),
        "year": str(rng.randint(2025, 2031)),
        "decade": rng.choice(DECADES),
        "score": f"{goals[0]}-{goals[1]}",
        # 11 to 99 count a singular noun in the accusative ("75 صوتا").
        "votes_for": str(rng.randint(60, 99)),
        "votes_against": str(rng.randint(20, 59)),
        "weekday": WEEKDAYS[weekday],
    }

