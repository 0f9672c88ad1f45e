import pytest

from ot_runtime.vocabulary import CATEGORY_LABELS

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


@pytest.mark.parametrize("category", list(Category))
def test_every_reason_names_the_category_by_its_label_in_each_language_never_its_code(category):
    s = screen(submission(categories=[category]))
    fi, en = CATEGORY_LABELS[category]
    [most_demanding] = [r for r in s.reasons if r.fi.startswith("Vaativin tilanne")]
    assert most_demanding.fi == f"Vaativin tilanne: {fi}" and most_demanding.en == f"Most demanding situation: {en}"
    # No code (e.g. "child_protection_special") reaches a reader; in English "neuropsychiatric" is a word.
    for text in [r.fi for r in s.reasons] + [s.summary_fi]:
        assert not any(c.value in text for c in Category), text
    for text in [r.en for r in s.reasons] + [s.summary_en]:
        assert not any(c.value in text for c in Category if "_" in c.value), text


def test_the_most_demanding_category_gives_the_points_and_the_label():
    s = screen(submission(categories=[Category.CHILD_PROTECTION_SPECIAL, Category.PSYCHIATRIC_SUBSTANCE_SCHOOL]))
    [most_demanding] = [r for r in s.reasons if r.en.startswith("Most demanding")]
    assert most_demanding.points == 2
    assert most_demanding.fi.endswith(CATEGORY_LABELS[Category.PSYCHIATRIC_SUBSTANCE_SCHOOL][0])
