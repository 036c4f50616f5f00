import pytest

from bench.budget import BudgetExhausted, Meter


def test_meter_counts_and_stops_at_cap():
    meter = Meter("source", cap=100)
    for _ in range(3):
        meter.step(32, flops=10.0)
    assert (meter.examples, meter.steps, meter.flops) == (96, 3, 30.0)
    with pytest.raises(BudgetExhausted):
        meter.step(32)
    assert meter.examples == 96  # nothing spent by the refused step
    meter.step(meter.remaining)
    usage = meter.usage()
    assert usage.examples == usage.cap == 100 and usage.steps == 4 and usage.phase == "source"


def test_meter_rejects_nonsense():
    with pytest.raises(ValueError):
        Meter("adapt", cap=-1)
    with pytest.raises(ValueError):
        Meter("adapt", cap=1).step(-1)
