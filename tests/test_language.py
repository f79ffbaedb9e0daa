"""Language identification from text alone: one news sentence or two per language, written for
these tests, and the cases where no answer is the right answer."""

from __future__ import annotations

import time

import pytest

from news_etl.articles import parse_article
from news_etl.language import identify_language
from news_etl.sources import load_source

# (ISO 639-1 code, text): the same council story, told in each language.
SENTENCES = [
    ("en", "The city council approved the new budget on Tuesday after a long debate, and the mayor said that "
           "the plan would be reviewed again next year."),
    ("fr", "Le conseil municipal a approuvé mardi le nouveau budget après un long débat, et le maire a déclaré "
           "que le plan sera revu l'année prochaine."),
    ("de", "Der Stadtrat hat am Dienstag nach einer langen Debatte den neuen Haushalt beschlossen, und der "
           "Bürgermeister sagte, dass der Plan im nächsten Jahr noch einmal geprüft werde."),
    ("es", "El ayuntamiento aprobó el martes el nuevo presupuesto después de un largo debate, y el alcalde dijo "
           "que el plan será revisado de nuevo el próximo año."),
    ("pt", "A câmara municipal aprovou na terça-feira o novo orçamento depois de um longo debate, e o prefeito "
           "disse que o plano será revisto no próximo ano."),
    ("it", "Il consiglio comunale ha approvato martedì il nuovo bilancio dopo un lungo dibattito, e il sindaco "
           "ha detto che il piano sarà rivisto l'anno prossimo."),
    ("nl", "De gemeenteraad heeft dinsdag na een lang debat de nieuwe begroting goedgekeurd, en de burgemeester "
           "zei dat het plan volgend jaar opnieuw wordt bekeken."),
    ("sv", "Kommunfullmäktige godkände på tisdagen den nya budgeten efter en lång debatt, och borgmästaren sade "
           "att planen ska ses över igen nästa år."),
    ("da", "Byrådet godkendte tirsdag det nye budget efter en lang debat, og borgmesteren sagde, at planen vil "
           "blive gennemgået igen efter nytår. Det er ikke første gang, at byen har haft problemer af denne art."),
    ("no", "Bystyret godkjente tirsdag det nye budsjettet etter en lang debatt, og ordføreren sa at planen skal "
           "vurderes på nytt neste år. Saken ble behandlet i går. Det er ikke første gang byen har hatt "
           "problemer av denne typen."),
    ("fi", "Kaupunginvaltuusto hyväksyi tiistaina uuden talousarvion pitkän keskustelun jälkeen, ja pormestari "
           "sanoi, että suunnitelma tarkistetaan uudelleen ensi vuonna. Se ei ole ensimmäinen kerta, kun "
           "kaupunki on joutunut vaikeuksiin."),
    ("pl", "Rada miasta zatwierdziła we wtorek nowy budżet po długiej debacie, a burmistrz powiedział, że plan "
           "zostanie ponownie przejrzany w przyszłym roku. To nie jest pierwszy raz, kiedy miasto ma takie "
           "problemy."),
    ("cs", "Zastupitelstvo města v úterý po dlouhé debatě schválilo nový rozpočet a starosta řekl, že plán bude "
           "znovu přezkoumán příští rok. Není to poprvé, co má město takové potíže."),
    ("ro", "Consiliul local a aprobat marți noul buget după o dezbatere lungă, iar primarul a spus că planul va "
           "fi revizuit din nou anul viitor. Nu este prima dată când orașul are astfel de probleme."),
    ("hu", "A városi közgyűlés kedden hosszú vita után elfogadta az új költségvetést, és a polgármester azt "
           "mondta, hogy a tervet jövőre újra felülvizsgálják. Nem ez az első eset, hogy a város ilyen "
           "gondokkal küzd."),
    ("tr", "Belediye meclisi salı günü uzun bir tartışmanın ardından yeni bütçeyi onayladı ve belediye başkanı "
           "planın gelecek yıl yeniden gözden geçirileceğini söyledi. Bu, şehrin bu tür sorunlarla ilk kez "
           "karşılaşması değil."),
    ("id", "Dewan kota menyetujui anggaran baru pada hari Selasa setelah perdebatan panjang, dan wali kota "
           "mengatakan bahwa rencana itu akan ditinjau kembali tahun depan."),
    ("vi", "Hội đồng thành phố đã thông qua ngân sách mới vào thứ Ba sau một cuộc tranh luận dài, và thị trưởng "
           "nói rằng kế hoạch này sẽ được xem xét lại vào năm sau."),
    ("ru", "Городской совет во вторник после долгих споров утвердил новый бюджет, и мэр сказал, что план будет "
           "пересмотрен в следующем году. Это уже не первый раз, когда город сталкивается с такими трудностями."),
    ("uk", "Міська рада у вівторок після тривалої дискусії затвердила новий бюджет, і мер сказав, що план буде "
           "переглянуто наступного року. Це вже не перший раз, коли місто має такі труднощі."),
    ("bg", "Общинският съвет одобри във вторник новия бюджет след дълъг дебат, а кметът каза, че планът ще бъде "
           "преразгледан отново през следващата година. Това не е първият път, когато градът има такива проблеми."),
    ("sr", "Градско веће је у уторак после дуге расправе усвојило нови буџет, а градоначелник је рекао да ће "
           "план бити поново размотрен следеће године. Ово није први пут да град има такве проблеме."),
    ("el", "Το δημοτικό συμβούλιο ενέκρινε την Τρίτη τον νέο προϋπολογισμό μετά από μακρά συζήτηση, και ο "
           "δήμαρχος δήλωσε ότι το σχέδιο θα επανεξεταστεί του χρόνου."),
    ("he", "מועצת העיר אישרה ביום שלישי את התקציב החדש לאחר דיון ארוך, וראש העיר אמר כי התוכנית תיבחן שוב "
           "בשנה הבאה."),
    ("ar", "وافق مجلس المدينة يوم الثلاثاء على الميزانية الجديدة بعد نقاش طويل، وقال رئيس البلدية إن الخطة "
           "ستتم مراجعتها مرة أخرى في العام المقبل."),
    ("fa", "شورای شهر روز سه‌شنبه پس از بحثی طولانی بودجه جدید را تصویب کرد و شهردار گفت که این طرح سال آینده "
           "دوباره بررسی خواهد شد."),
    # Persian as windows-1256 pages write it, with the Arabic yeh and kaf: its words still tell.
    ("fa", "شوراي شهر روز سه‌شنبه پس از بحثي طولاني بودجه جديد را تصويب کرد و شهردار گفت که اين طرح سال آينده "
           "دوباره بررسي خواهد شد."),
    ("ur", "سٹی کونسل نے منگل کو طویل بحث کے بعد نئے بجٹ کی منظوری دی اور میئر نے کہا کہ اس منصوبے کا اگلے سال "
           "دوبارہ جائزہ لیا جائے گا۔"),
    ("hi", "नगर परिषद ने मंगलवार को लंबी बहस के बाद नए बजट को मंज़ूरी दी और महापौर ने कहा कि इस योजना की अगले "
           "साल फिर से समीक्षा की जाएगी।"),
    ("bn", "নগর পরিষদ মঙ্গলবার দীর্ঘ বিতর্কের পর নতুন বাজেট অনুমোদন করেছে এবং মেয়র বলেছেন যে পরিকল্পনাটি আগামী "
           "বছর আবার পর্যালোচনা করা হবে।"),
    ("th", "สภาเมืองอนุมัติงบประมาณใหม่เมื่อวันอังคารหลังจากการอภิปรายอันยาวนาน และนายกเทศมนตรีกล่าวว่าแผนนี้จะได้รับ"
           "การทบทวนอีกครั้งในปีหน้า"),
    ("zh", "市议会周二经过长时间辩论后批准了新的预算，市长表示该计划将于明年再次审查。"),
    ("ja", "市議会は火曜日、長い議論の末に新しい予算を承認し、市長はこの計画を来年改めて見直すと述べた。"),
    ("ko", "시의회는 화요일 오랜 토론 끝에 새 예산을 승인했으며, 시장은 이 계획을 내년에 다시 검토하겠다고 밝혔다."),
]


@pytest.mark.parametrize("language, text", SENTENCES, ids=[f"{code}-{i}" for i, (code, _) in enumerate(SENTENCES)])
def test_identifies_the_language_of_a_news_sentence(language, text):
    assert identify_language(text) == language


# (why, text, answer)
OTHER_CASES = [
    ("nothing", "", None),
    ("no text", None, None),
    ("too few letters", "Home · News · Sport", None),
    ("numbers and symbols", "12:45 · 2024-03-01 · +3.5% · €120", None),
    ("no function words of any listed language", "Xylorq brampet vizzor quenthal okkotrin zammaphex.", None),
    ("a page's title, its English body with an Arabic name and quote",
     "Talks in Mirabad\nThe minister, Sami al-Haddad, said “شكرا” to the crowd before the talks began, and "
     "the two delegations met for three hours.", "en"),
    ("a long text is read from its start only", "Le maire a dit que le plan sera revu. " * 200 + "the and of " * 500,
     "fr"),
]


@pytest.mark.parametrize("why, text, answer", OTHER_CASES, ids=[c[0] for c in OTHER_CASES])
def test_no_guess_without_evidence(why, text, answer):
    assert identify_language(text) == answer


def test_reads_a_bounded_sample_whatever_the_length_of_the_text():
    # Its cost does not grow with the page: 10x the text costs about the same. CPU time of this
    # process, best of three, as a ratio (a wall-clock threshold fails on a busy machine).
    def cost(text: str) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            for _ in range(50):
                identify_language(text)
            best = min(best, time.process_time() - start)
        return best

    longer, ten_times = SENTENCES[0][1] * 25, SENTENCES[0][1] * 250  # both longer than the sample read
    assert cost(ten_times) < 3 * cost(longer) + 0.01


PAGE = "<html{lang}><head><title>t</title></head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>"


@pytest.mark.parametrize("lang, body, source_language, expected", [
    ("", SENTENCES[1][1], None, "fr"),                  # undeclared: read from the text
    ("", SENTENCES[1][1], "en", "fr"),                  # ... before the source's language
    (' lang="de"', SENTENCES[1][1], "en", "de"),        # what the page declares wins
    ("", "Zammaphex okkotrin brampet vizzor quenthal xylorq.", "en", "en"),  # undecidable: the source's
    ("", "Zammaphex okkotrin brampet vizzor quenthal xylorq.", None, None),
])
def test_article_language_falls_back_from_the_page_to_the_text_to_the_source(write_file, lang, body,
                                                                            source_language, expected):
    source = None
    if source_language:
        source = load_source(write_file("s.yaml", f"name: s\ntimezone: UTC\nlanguage: {source_language}\n"
                                                  "feeds: [http://127.0.0.1:9/f]\n"))
    html = PAGE.format(lang=lang, title="Headline", body=body).encode()
    assert parse_article(html, url="https://example.org/a", source=source).language == expected
