"""Advice aimed at the right person: when the partner behaves badly, no quote tells the asker to
forgive, take responsibility or apologise, unless that is what the question asks."""

from __future__ import annotations

import pytest

from assistant.advice import ASKER_REPAIRS, partner_at_fault, wrong_advice_for


@pytest.mark.parametrize("question", [
    "My husband cheated on me with a coworker. How do we get through this?",
    "my bf lies to me about where he goes every weekend, what do i do",
    "She keeps yelling at me in front of the kids and then acts like nothing happened.",
    "My wife ignores me whenever I try to talk about us.",
    "My ex was a narcissist and I can't stop thinking about him.",
    "hubby just shuts down whenever I bring up anything real",
])
def test_a_partner_behaving_badly_is_recognised(question):
    assert partner_at_fault(question)


@pytest.mark.parametrize("question", [
    "I cheated on my girlfriend. How do I make it right?",  # the asker's own part
    "My husband had an affair. How do I forgive him?",  # asks for forgiveness itself
    "How can we feel close again after the baby?",
    "We both work nights and barely see each other.",
    "My wife is wonderful but I struggle to open up to her.",
])
def test_the_askers_own_part_or_no_fault_is_not(question):
    assert not partner_at_fault(question)


def test_only_repair_advice_is_withheld_and_only_from_the_wronged_asker():
    wronged = wrong_advice_for("My husband cheated and lied about it. What now?")
    assert wronged("Practice forgiveness and let go of resentment to create space for healing and growth.")
    assert wronged("Repair begins with: • Taking responsibility for harm caused")
    assert not wronged("Trust takes time to restore, but with effort and support, couples can reconnect.")
    own = wrong_advice_for("I cheated on my husband. How do I take responsibility?")
    assert not own("Repair begins with: • Taking responsibility for harm caused")


@pytest.mark.model
@pytest.mark.parametrize("question", [
    # Worded so that the repair and forgiveness passages are retrieved: without the rule, each of
    # these answers quotes "Taking responsibility for harm caused" or "Practice forgiveness".
    "My husband cheated on me and lied. How does repair begin after emotional injuries like betrayal?",
    "My wife had an affair. What helps heal past hurts and resentment so we can grow?",
])
def test_the_wronged_asker_is_not_told_to_forgive_or_take_responsibility(assistant_real, question):
    answer = assistant_real.ask(question)
    for citation in answer.citations:
        assert not ASKER_REPAIRS.search(citation.quote), citation.quote
