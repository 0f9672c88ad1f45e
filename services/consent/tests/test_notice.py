from ot_consent.domain import DEFAULT_POLICIES
from ot_consent.web import render_notice


def test_the_notice_says_what_the_system_does():
    page = render_notice("keski-suomi", list(DEFAULT_POLICIES.values()))
    assert "Keski-Suomen hyvinvointialue" in page
    for fi, en in (("henkilötunnus", "personal identity code"), ("diagnoosikoodi", "diagnosis code")):
        assert fi in page and en in page
    assert "konsultaatioryhmä: 14 päivää" in page and "consultation group: 14 days" in page
    assert page.index('lang="fi"') < page.index('lang="en"')  # Finnish first
