from ot_consent.domain import DEFAULT_POLICIES
from ot_consent.web import render_notice


def test_the_notice_says_what_the_system_does():
    page = render_notice("keski-suomi", list(DEFAULT_POLICIES.values()))
    assert "Keski-Suomen hyvinvointialue" in page
    for fi, en in (("henkilötunnus", "personal identity code"), ("diagnoosikoodi", "diagnosis code")):
        assert fi in page and en in page
    assert "konsultaatioryhmä: 14 päivää" in page and "consultation group: 14 days" in page
    assert page.index('lang="fi"') < page.index('lang="en"')  # Finnish first


def test_the_notice_says_exactly_when_backups_stop_opening_erased_content():
    page = " ".join(render_notice("pohjois-savo", list(DEFAULT_POLICIES.values())).split())
    assert ("Kun poiston aikaan käytössä ollut pääavaimen versio ja sitä vanhemmat on hävitetty, mikään "
            "varmuuskopio ei enää avaa poistettua sisältöä") in page
    assert ("Once the master key version in use at the erasure and every older one have been destroyed, no backup "
            "opens the erased content any more") in page
    assert "(database, events, backups) becomes unreadable" not in page  # the earlier, too broad promise
    assert "protected with a key that is not kept in the database" in page


def notice_app(current_policies):
    from ot_consent.web import create_app
    return create_app("keski-suomi", {}, current_policies).test_client()


def test_the_notice_is_the_same_page_under_any_query_string():
    client = notice_app(lambda: list(DEFAULT_POLICIES.values()))
    plain = client.get("/privacy").data
    for query in ("?%", "?%ff%fe", "?a=%00", "?lang=sv&lang=fi", "?" + "a" * 4000, "?a=%ed%a0%80", "?a[]=1",
                  "?%E4=%F6"):
        for path in ("/privacy", "/tietosuoja"):
            got = client.get(path + query)
            assert (got.status_code, got.data) == (200, plain), path + query[:20]


def test_the_notice_says_try_again_when_the_database_does_not_answer():
    """Its retention periods come from the database: without it the page is 503 with a bilingual
    message (it was a bare 500), never a notice with guessed periods."""
    from ot_consent.domain import RequestType
    from ot_consent.store import ConsentRepository
    from ot_runtime.db import create_engine, session_factory
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")  # nothing listens on 9
    sessions = session_factory(engine)

    def current_policies():
        with sessions() as s:
            return [ConsentRepository(s).policy("keski-suomi", t) for t in RequestType]

    got = notice_app(current_policies).get("/privacy?x=1")
    engine.dispose()
    assert got.status_code == 503 and got.headers["Retry-After"] == "60"
    text = got.get_data(as_text=True)
    assert text.startswith("Tietosuojaseloste ei ole juuri nyt saatavilla") and "privacy notice is not available" in text
    assert "päivää" not in text
