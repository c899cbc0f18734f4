"""A batch's progress as one state, and its throttle: pure logic, tested without a widget or a loop."""

from __future__ import annotations

import pytest

from flux_widget.types import Loading, Queued, Started, Step
from flux_widget.widget._progress import PROGRESS_INTERVAL, BatchProgress, Throttle


def test_nothing_reported_changes_nothing() -> None:
    progress = BatchProgress(4)
    assert not progress.pending and progress.updates() == {}


def test_queued_jobs_show_the_best_place_in_line_and_the_shortest_wait() -> None:
    progress = BatchProgress(2)
    progress.record(0, Queued(rank=3, eta=9.0))
    progress.record(1, Queued(rank=1, eta=None))
    assert progress.pending
    assert progress.updates() == {"status": "queued", "queue_position": 1, "eta": 9.0, "detail": ""}
    assert not progress.pending


def test_running_wins_over_queued_and_the_furthest_step_is_shown() -> None:
    progress = BatchProgress(4)
    progress.record(0, Step(index=1, length=4))
    progress.record(1, Step(index=3, length=4))
    progress.record(2, Queued(rank=0))
    assert progress.updates() == {
        "status": "running",
        "queue_position": None,
        "eta": None,
        "detail": "",
        "step": 3,
        "total_steps": 4,
        "progress": pytest.approx((0.25 + 0.75) / 4),
    }


def test_arrived_images_count_whole_and_report_no_more() -> None:
    progress = BatchProgress(4)
    progress.record(0, Step(index=4, length=4))
    progress.record(1, Step(index=2, length=4))
    progress.arrived(0)
    progress.arrived(2)
    assert progress.done == 2
    updates = progress.updates()
    assert updates["step"] == 2 and updates["progress"] == pytest.approx((2 + 0.5) / 4)


def test_started_without_steps_keeps_the_step_count_and_gives_the_eta() -> None:
    progress = BatchProgress(1)
    progress.record(0, Started(eta=7.5))
    assert progress.updates() == {"status": "running", "queue_position": None, "eta": 7.5, "detail": ""}


def test_a_step_without_a_length_leaves_total_steps_alone() -> None:
    progress = BatchProgress(1)
    progress.record(0, Step(index=2, length=None))
    updates = progress.updates()
    assert "total_steps" not in updates and updates["step"] == 2 and updates["progress"] == 0.0


def test_throttle_lets_one_update_through_per_interval() -> None:
    throttle = Throttle(0.05)
    assert throttle.wait(100.0) <= 0  # never shown: now
    throttle.shown(100.0)
    assert throttle.wait(100.01) == pytest.approx(0.04)
    assert throttle.wait(100.05) <= 0
    assert Throttle().interval == PROGRESS_INTERVAL == 0.05


def test_a_model_being_loaded_is_said_so_not_waiting_for_the_space() -> None:
    progress = BatchProgress(1)
    progress.record(0, Loading("Downloading model", 3_100_000_000, 8_000_000_000))
    assert progress.updates() == {
        "status": "queued", "queue_position": None, "eta": None, "detail": "Downloading model 3.1 of 8.0 GB",
    }  # fmt: skip
    progress.record(0, Step(index=1, length=4))
    assert progress.updates()["detail"] == ""  # running now: the step says it
