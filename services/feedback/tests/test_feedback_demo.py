"""`ot-feedback seed-demo` (make run): the demo's statistics page shows numbers, not only "<5"."""
from __future__ import annotations

from types import SimpleNamespace

from ot_feedback.demo import seed_demo
from ot_feedback.main import seed_demo as seed_demo_command
from ot_feedback.stats import COMPLEMENTARY, HIDDEN, TOTAL

from feedback_testkit import NOW, TENANT


def shown_figures(handlers) -> dict[tuple[str, str, str], int]:
    """Every figure the page would show for "all" (the default) that is not suppressed, totals included."""
    _, tables, _ = handlers.statistics("all")
    return {(t.name, r, c): int(t.cell(r, c)) for t in tables for r in t.shown_rows for c in t.shown_columns
            if t.cell(r, c) not in (HIDDEN, COMPLEMENTARY)}


def test_the_demo_statistics_show_numbers_beyond_the_grand_totals(handlers):
    assert not any(v >= 5 for v in shown_figures(handlers).values())  # an empty area shows nothing
    assert seed_demo(handlers.sessions, TENANT, NOW) == 48
    figures = shown_figures(handlers)
    # Inner figures, not only the totals: e.g. OT-TUKI requests from social care.
    inner = {k: v for k, v in figures.items() if TOTAL not in k[1:] and v >= 5}
    assert inner[("contacts_by_sector", "social", "ot_tuki")] == 12
    assert figures[("requests_by_category", TOTAL, "ot_tuki")] == 24
    # Response times for OT-TUKI: six answered requests a quarter, so their medians show.
    times = [r for r in handlers.response_times(handlers.whole_period(), None) if r.type == "ot_tuki"]
    assert any(r.requests.isdigit() and r.answer_median for r in times)


def test_running_it_again_adds_nothing(handlers):
    seed_demo(handlers.sessions, TENANT, NOW)
    before = shown_figures(handlers)
    assert seed_demo(handlers.sessions, TENANT, NOW) == 0
    assert shown_figures(handlers) == before


def test_it_refuses_to_run_in_a_cluster(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    settings = SimpleNamespace(tenant=TENANT, database_url=f"sqlite:///{tmp_path}/never.db")
    assert seed_demo_command(settings) == 2
    assert "only on this machine" in capsys.readouterr().err
    assert not (tmp_path / "never.db").exists()
