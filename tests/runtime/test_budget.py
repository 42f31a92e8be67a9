"""Budgets against the emulator: a submit or batch past the budget is refused with the numbers
and nothing is sent; what was possibly paid is committed, what provably was not is released, and
the actual credits replace the estimate once the gateway reports them."""

from __future__ import annotations

from pathlib import Path

import pytest
from emulated import client_for, posts

from kling_notebook import Budget, RetryPolicy, errors
from kling_notebook.emulator import CREDITS_PER_SECOND, Emulator
from kling_notebook.runtime.batch import sweep


async def test_a_session_budget_refuses_a_batch_past_it(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    budget = Budget(usd=5.00)
    async with client_for(emulator, out_dir, budget=budget) as client:
        with pytest.raises(errors.BudgetExceededError) as caught:
            await client.batch(sweep(images=image, prompts=["a", "b", "c", "d"]), confirm=True)
    message = str(caught.value)
    assert "about 5.60 USD, 5.00 USD remain" in message and "Nothing was sent" in message
    assert posts(emulator) == {} and budget.spent_usd == 0 and budget.reserved_usd == 0


async def test_a_batch_budget_is_spent_across_batches(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    budget = Budget(usd=3.00)
    async with client_for(emulator, out_dir) as client:
        first = await client.batch(
            sweep(images=image, prompts=["a", "b"]), confirm=True, budget=budget
        )
        assert len(first.results) == 2
        assert budget.spent_usd == pytest.approx(2.80)
        assert budget.spent_credits == 2 * 5 * CREDITS_PER_SECOND  # actual credits, reported
        with pytest.raises(errors.BudgetExceededError) as caught:
            await client.batch(sweep(images=image, prompts="c"), confirm=True, budget=budget)
    assert "about 1.40 USD, 0.20 USD remain" in str(caught.value)
    assert posts(emulator) == {"200": 2}


async def test_single_submits_reserve_commit_and_journal_the_estimate(
    emulator: Emulator, out_dir: Path, image: Path
) -> None:
    budget = Budget(usd=2.00)
    async with client_for(emulator, out_dir, budget=budget) as client:
        result = await client.generate(image=image, prompt="within budget")
        assert budget.spent_usd == pytest.approx(1.40) and budget.reserved_usd == 0
        assert budget.spent_credits == 5 * CREDITS_PER_SECOND
        with pytest.raises(errors.BudgetExceededError) as caught:
            await client.submit(image=image, prompt="past the budget")
        assert client.journal is not None
        (entry,) = client.journal.entries()  # the refused submit left no trace: nothing was sent
    assert "about 1.40 USD, 0.60 USD remain" in str(caught.value)
    assert entry.generation_id == result.id and entry.estimate is not None
    assert entry.estimate["usd"] == pytest.approx(1.40) and entry.estimate["count"] == 1
    assert posts(emulator) == {"200": 1}


@pytest.mark.parametrize(
    ("faults", "error", "spent"),
    [
        ("post#1:429", errors.RateLimitError, 0.0),  # refused: provably nothing created
        ("post#1:reset_after", errors.SubmissionUncertainError, 1.40),  # may have been paid
    ],
)
async def test_the_reservation_follows_what_the_post_proves(
    emulator: Emulator,
    out_dir: Path,
    image: Path,
    faults: str,
    error: type[Exception],
    spent: float,
) -> None:
    emulator.set_faults(faults)
    budget = Budget(usd=10.00)
    retry = RetryPolicy(max_attempts=1, base_delay=0.01)
    async with client_for(emulator, out_dir, budget=budget, retry=retry) as client:
        with pytest.raises(error):
            await client.submit(image=image, prompt="uncertain or refused")
    assert budget.spent_usd == pytest.approx(spent) and budget.reserved_usd == 0
