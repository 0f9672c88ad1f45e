from ot_intake.domain import Category, ClientFacts, Gender
from ot_intake.seula import MAX_SCORE, screen

from intake_testkit import submission


def test_score_is_the_sum_of_its_visible_reasons():
    s = screen(submission())
    assert s.score == sum(r.points for r in s.reasons)
    assert all(r.fi and r.en for r in s.reasons)
    assert "koordinaattori päättää" in s.summary_fi and "coordinator decides" in s.summary_en


def test_a_many_sided_threatening_situation_scores_high():
    s = screen(submission(
        categories=[Category.FAMILY_HOMICIDE_THREAT, Category.CHALLENGING_DIVORCE, Category.CHILD_PROTECTION_SPECIAL],
        client=ClientFacts(age_years=9, gender=Gender.BOY, earlier_services=["a", "b", "c"],
                           cooperation_partners=["a", "b", "c", "d"])))
    assert s.score == MAX_SCORE and s.band == "likely"


def test_a_single_issue_with_nothing_tried_scores_low_and_says_why():
    s = screen(submission(categories=[Category.NEUROPSYCHIATRIC], question="Kysymys.",
                          client=ClientFacts(age_years=9, gender=Gender.BOY)))
    assert s.band == "unlikely"
    assert any(r.points == 0 and "No earlier services" in r.en for r in s.reasons)
