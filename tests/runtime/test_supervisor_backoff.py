"""How long the supervisor waits before starting a service that exited on its own."""

from runtime.supervisor import FIRST_DELAY, MAX_DELAY, STABLE_AFTER, next_delay


def test_delay_doubles_while_the_service_keeps_failing_and_stops_at_the_cap():
    delays = [None]
    for _ in range(10):
        delays.append(next_delay(delays[-1], uptime=0.5))

    assert delays[1:5] == [FIRST_DELAY, 2 * FIRST_DELAY, 4 * FIRST_DELAY, 8 * FIRST_DELAY]
    assert max(delays[1:]) == MAX_DELAY
    assert delays[-1] == MAX_DELAY


def test_delay_starts_over_once_the_service_stayed_up_a_while():
    assert next_delay(MAX_DELAY, uptime=STABLE_AFTER) == FIRST_DELAY
