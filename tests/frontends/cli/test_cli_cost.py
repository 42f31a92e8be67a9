"""``kling-notebook generate`` says what it will cost before the paid step (in the panel's words)
and, with ``--budget USD``, refuses to submit past the budget: nothing is sent."""

from __future__ import annotations

import pytest
from emulated import posts

from kling_notebook.domain.cost import DEFAULT_PRICES, cost_notice
from kling_notebook.frontends.cli import commands as cli


def test_the_estimate_is_printed_before_the_paid_step(cli_on_emulator, image, capsys) -> None:
    assert cli.main(["generate", "--image", str(image), "--duration", "10"]) == 0
    err = capsys.readouterr().err
    notice = cost_notice(DEFAULT_PRICES.estimate(10), demo=False, charged_when="when it is submitted")
    assert notice in err and "about $2.80" in notice
    assert err.index(notice) < err.index("submitting")


def test_demo_mode_says_it_costs_nothing(cli_on_emulator, image, capsys) -> None:
    assert cli.main(["generate", "--image", str(image), "--demo"]) == 0
    assert "Estimated cost: nothing in demo mode" in capsys.readouterr().err


def test_the_demo_notice_gives_the_price_with_a_key_in_a_sentence_of_its_own() -> None:
    """The estimate carries its own parentheses; wrapped in another pair it read as a riddle."""
    estimate = DEFAULT_PRICES.estimate(10)
    notice = cost_notice(estimate, demo=True, charged_when="when it is submitted")
    assert notice == f"Estimated cost: nothing in demo mode. With a key: {estimate}."


def test_budget_refuses_past_it_and_sends_nothing(cli_on_emulator, emulator, image, capsys) -> None:
    assert cli.main(["generate", "--image", str(image), "--budget", "1.00"]) == 4
    err = capsys.readouterr().err
    assert "Budget exceeded" in err and "1.40 USD" in err and "Nothing was sent" in err
    assert "submitting" not in err and "checking" not in err  # refused before any step begins
    assert posts(emulator) == {}


def test_a_budget_that_fits_lets_it_through(cli_on_emulator, emulator, image) -> None:
    assert cli.main(["generate", "--image", str(image), "--budget", "1.40"]) == 0
    assert cli_on_emulator["budget"].usd == 1.40 and cli_on_emulator["budget"].spent_usd == pytest.approx(1.40)
    assert posts(emulator) == {"200": 1}


@pytest.mark.parametrize("value", ["-1", "lots", "nan"])
def test_a_budget_must_be_a_dollar_amount(value, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.build_parser().parse_args(["generate", "--image", "x.jpg", "--budget", value])
    assert caught.value.code == 2 and "--budget" in capsys.readouterr().err
