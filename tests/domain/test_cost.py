"""Price estimates and the budget that refuses to overspend."""

from __future__ import annotations

import random
import threading

import pytest

from kling_notebook.domain.cost import Budget, CostEstimate, PriceTable
from kling_notebook.domain.errors import BudgetExceededError, ConfigurationError

PRICES = PriceTable()


# -- estimates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "count", "usd", "seconds"),
    [(5, 1, 1.40, 5), (10, 1, 2.80, 10), (5, 3, 4.20, 15), (10, 4, 11.20, 40), (6, 1, 1.68, 6)],
)
def test_published_fal_prices(duration: int, count: int, usd: float, seconds: int) -> None:
    estimate = PRICES.estimate(duration, count)
    assert estimate.usd == pytest.approx(usd)
    assert (estimate.count, estimate.duration_seconds_total) == (count, seconds)
    assert estimate.credits is None  # the gateway publishes no credits figure


def test_estimate_text() -> None:
    assert str(PRICES.estimate(5, 2)) == (
        "about $2.80 for 2 videos (10 s in all) \u2014 estimate from the published fal.ai mirror price"
    )
    assert str(PRICES.estimate(10)).startswith("about $2.80 for 1 video (10 s)")


def test_user_prices_and_credits() -> None:
    table = PriceTable(usd_base=1.0, usd_per_extra_second=0.5, credits_per_second=21, label="mine")
    estimate = table.estimate(10, 2)
    assert (estimate.usd, estimate.credits, estimate.label) == (7.0, 420.0, "mine")
    assert str(estimate) == "about $7.00 (~420 credits) for 2 videos (20 s in all) \u2014 mine"
    assert PRICES.estimate(3).usd == pytest.approx(1.40)  # the base price is the minimum


@pytest.mark.parametrize(("duration", "count"), [(0, 1), (-5, 1), (5, -1)])
def test_nonsense_estimates_are_refused(duration: int, count: int) -> None:
    with pytest.raises(ValueError):
        PRICES.estimate(duration, count)


def test_estimates_add_up() -> None:
    total = PRICES.estimate(5, 2) + PRICES.estimate(10, 1)
    assert total == CostEstimate(3, 20, 5.6, None, PRICES.label)
    with_credits = PriceTable(credits_per_second=10)
    assert (with_credits.estimate(5) + with_credits.estimate(10)).credits == 150


# -- budget -------------------------------------------------------------------------------------


def test_budget_refuses_with_exact_numbers() -> None:
    budget = Budget(usd=2.00)
    budget.reserve(PRICES.estimate(5)).commit()
    with pytest.raises(BudgetExceededError) as raised:
        budget.reserve(PRICES.estimate(5))
    assert (raised.value.needed, raised.value.remaining) == (pytest.approx(1.4), pytest.approx(0.6))
    assert str(raised.value).startswith(
        "Budget exceeded: this needs about 1.40 USD, 0.60 USD remain."
    )
    assert "Nothing was sent" in str(raised.value)
    assert (budget.spent_usd, budget.reserved_usd, budget.remaining_usd) == (1.4, 0.0, 0.6)


def test_budget_fits_its_exact_total() -> None:
    budget = Budget(usd=2.80)
    budget.reserve(PRICES.estimate(5))
    budget.reserve(PRICES.estimate(5))
    assert budget.remaining_usd == 0.0
    with pytest.raises(BudgetExceededError):
        budget.reserve(PRICES.estimate(5))


def test_release_returns_money_and_commit_keeps_it() -> None:
    budget = Budget(usd=3.00)
    first = budget.reserve(PRICES.estimate(10))
    assert (budget.reserved_usd, budget.remaining_usd) == (2.8, 0.2)
    first.release()  # provably never sent
    first.release()  # idempotent, safe in cleanup code
    assert (budget.reserved_usd, budget.spent_usd, budget.remaining_usd) == (0.0, 0.0, 3.0)
    with pytest.raises(RuntimeError):
        first.commit()

    second = budget.reserve(PRICES.estimate(10))
    second.commit()  # submitted (or uncertain): counts as spent
    assert (budget.reserved_usd, budget.spent_usd) == (0.0, 2.8)
    with pytest.raises(RuntimeError, match="paid"):
        second.release()
    assert budget.spent_usd == 2.8


def test_unlimited_budget_still_counts() -> None:
    budget = Budget()
    for _ in range(3):
        budget.reserve(PRICES.estimate(10)).commit()
    assert (budget.spent_usd, budget.remaining_usd, budget.remaining_credits) == (8.4, None, None)


def test_actual_credits_replace_the_estimate() -> None:
    table = PriceTable(credits_per_second=20)
    budget = Budget(credits=250)
    first = budget.reserve(table.estimate(5))  # 100 estimated
    first.commit()  # at submit time: the estimate counts
    assert budget.spent_credits == 100
    first.commit(actual_credits=140)  # at completion: the real figure
    assert (budget.spent_credits, budget.remaining_credits) == (140, 110)
    with pytest.raises(BudgetExceededError) as raised:
        budget.reserve(table.estimate(10))
    assert str(raised.value).startswith(
        "Budget exceeded: this needs about 200.00 credits, 110.00 credits remain."
    )
    budget.reserve(table.estimate(5)).commit(actual_credits=90)
    assert budget.spent_credits == 230


def test_credits_budget_needs_a_credits_price() -> None:
    with pytest.raises(ConfigurationError, match="credits_per_second"):
        Budget(credits=100).reserve(PRICES.estimate(5))
    with pytest.raises(ValueError):
        Budget(usd=-1)


def test_many_threads_never_overspend() -> None:
    budget = Budget(usd=14.00)  # room for exactly ten 5 s videos
    start = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(20):
            try:
                reservation = budget.reserve(PRICES.estimate(5))
            except BudgetExceededError:
                outcome = "refused"
            else:
                assert budget.spent_usd + budget.reserved_usd <= 14.0 + 1e-9
                if rng.random() < 0.5:
                    reservation.release()
                    outcome = "released"
                else:
                    reservation.commit()
                    outcome = "committed"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 50 * 20
    assert outcomes.count("committed") == 10  # exactly the budget, never more
    assert (budget.spent_usd, budget.reserved_usd, budget.remaining_usd) == (14.0, 0.0, 0.0)
