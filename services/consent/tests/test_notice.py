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
