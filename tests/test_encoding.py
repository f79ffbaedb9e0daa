"""Page encodings: HTTP header, then BOM, then <meta charset>, then the bytes themselves."""

import codecs

import pytest

from news_etl.articles import parse_article
from news_etl.encoding import decode_html

ARABIC = "خبر عاجل من طهران اليوم: الحكومة توافق على إصلاح حصص الصيد بعد أسابيع من المحادثات"
PERSIAN = "دولت پس از هفته‌ها گفتگو اصلاح سهمیه‌های ماهیگیری را تصویب کرد و کارشناسان از آن استقبال کردند".replace("ی", "ي")  # Windows-1256 writes Persian yeh as Arabic yeh
RUSSIAN = "Правительство одобрило реформу квот на вылов рыбы после нескольких недель переговоров"
GERMAN = "Grüße aus Zürich: Åsa Lindqvist sagt „ja“ – und die Straßenbahn fährt wieder"


def page(text: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><article><p>{text}</p></article></body></html>"


# (name, bytes, Content-Type header, text that must come out)
CASES = [
    ("windows-1256 declared by meta", page(ARABIC, '<meta charset="windows-1256">').encode("cp1256"), None, ARABIC),
    ("windows-1256 declared by the header", page(PERSIAN).encode("cp1256"), "text/html; charset=windows-1256", PERSIAN),
    ("windows-1256 undeclared", page(ARABIC + " " + PERSIAN).encode("cp1256"), None, ARABIC),
    ("cp1251 declared by http-equiv",
     page(RUSSIAN, '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">').encode("cp1251"),
     None, RUSSIAN),
    ("cp1251 undeclared", page(RUSSIAN).encode("cp1251"), None, RUSSIAN),
    ("utf-8 undeclared", page(GERMAN + " " + ARABIC).encode("utf-8"), None, GERMAN),
    ("utf-8 with a BOM and a wrong meta", codecs.BOM_UTF8 + page(RUSSIAN, '<meta charset="iso-8859-1">').encode(),
     None, RUSSIAN),
    ("utf-16 with a BOM", codecs.BOM_UTF16_LE + page(GERMAN).encode("utf-16-le"), None, GERMAN),
    ("the header wins over the meta", page(RUSSIAN, "<meta charset='utf-8'>").encode("cp1251"),
     "text/html; charset=windows-1251", RUSSIAN),
    ("a Latin-1 header on UTF-8 bytes (a server default)", page(GERMAN).encode("utf-8"),
     "text/html; charset=ISO-8859-1", GERMAN),
    ("Latin-1 label read as windows-1252 (curly quotes)", page("„quoted“ – café", "<meta charset=iso-8859-1>")
     .encode("cp1252"), None, "„quoted“ – café"),
    ("a declared utf-8 the bytes contradict", page(GERMAN, "<meta charset='utf-8'>").encode("cp1252"), None, GERMAN),
    ("an unknown label", page(GERMAN, "<meta charset='x-unheard-of'>").encode("utf-8"), None, GERMAN),
]


@pytest.mark.parametrize("name, data, content_type, text", CASES, ids=[c[0] for c in CASES])
def test_decode_html(name, data, content_type, text):
    assert text in decode_html(data, content_type)


@pytest.mark.parametrize("name, data, content_type, text", CASES[:6], ids=[c[0] for c in CASES[:6]])
def test_article_bodies_come_out_right_in_every_encoding(name, data, content_type, text):
    parsed = parse_article(data, url="https://example.org/e", content_type=content_type)
    assert text in parsed.body
