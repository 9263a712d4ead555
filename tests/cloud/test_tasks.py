"""Tests for cloud.tasks: task ids and lists, a task's state and failure facts, ids, timestamps."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.cloud.tasks import parse_timestamp, resource_id, task_id_of, task_list, task_state
from reconciler.errors import BadResponseError, TaskFailedError

START = 1795788185.0  # 2026-11-27T14:03:05Z


def test_a_write_answer_names_its_task() -> None:
    assert task_id_of({"taskId": "t-1", "commandType": "x"}, "PUT", "/p") == "t-1"


@pytest.mark.parametrize("answer", [{}, {"taskId": ""}, {"taskId": 7}, ["t-1"], None])
def test_a_write_answer_without_a_task_id_is_a_bad_response(answer: Any) -> None:
    with pytest.raises(BadResponseError) as caught:
        task_id_of(answer, "POST", "/subscriptions/1/databases")
    assert str(caught.value) == "POST /subscriptions/1/databases: the answer holds no taskId"


@pytest.mark.parametrize(
    ("listing", "expected"),
    [
        ({"tasks": [{"taskId": "a"}, "junk", {"taskId": "b"}]}, [{"taskId": "a"}, {"taskId": "b"}]),
        ([{"taskId": "a"}, 3], [{"taskId": "a"}]),
        ({"tasks": "none"}, []),
        ({}, []),
        ("junk", []),
    ],
)
def test_a_task_list_keeps_only_task_objects(listing: Any, expected: list[Any]) -> None:
    assert task_list(listing) == expected


@pytest.mark.parametrize("status", ["initialized", "received", "processing-in-progress"])
def test_task_pending_statuses(status: str) -> None:
    assert task_state("t-1", {"status": status}) == (status, None)


def test_task_completed_returns_the_task() -> None:
    task = {"status": "processing-completed", "response": {"resourceId": 51170960}}
    assert task_state("t-1", task) == ("processing-completed", task)
    assert resource_id(task) == 51170960


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            {
                "status": "processing-error",
                "response": {
                    "error": {
                        "type": "GENERAL_ERROR",
                        "status": "500 INTERNAL_SERVER_ERROR",
                        "description": "contact support",
                    },
                    "additionalInfo": "rcp-cannot-provision-without-plan",
                },
            },
            "task t-1 failed: 500 INTERNAL_SERVER_ERROR GENERAL_ERROR: "
            "contact support (rcp-cannot-provision-without-plan)",
        ),
        (
            {"status": "processing-error", "description": "failed", "response": {"error": "X_Y"}},
            "task t-1 failed: X_Y: failed",
        ),
        (
            {"status": "processing-completed", "response": {"error": {"type": "LATE"}}},
            "task t-1 failed: LATE",
        ),
        ({"status": "weird"}, "task t-1 failed: weird: unexpected task status 'weird'"),
        ({}, "task t-1 failed: (no status): unexpected task status '(no status)'"),
    ],
)
def test_task_failures_keep_their_facts(task: dict[str, Any], message: str) -> None:
    with pytest.raises(TaskFailedError) as caught:
        task_state("t-1", task)
    assert str(caught.value) == message


def test_task_that_is_not_an_object_is_a_bad_response() -> None:
    with pytest.raises(BadResponseError):
        task_state("t-1", ["processing-completed"])


@pytest.mark.parametrize("value", [None, True, "51170960", {}])
def test_resource_id_must_be_an_integer(value: Any) -> None:
    assert resource_id({"response": {"resourceId": value}}) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T14:03:05Z", START),
        ("2026-11-27T14:03:05.5Z", START + 0.5),
        ("2026-06-11T18:17:58.06056495Z", 1781201878.06056495),
        ("2026-11-27T15:03:05+01:00", START),
        ("2026-11-27T14:03:05", START),
        ("yesterday", None),
        (None, None),
    ],
)
def test_task_timestamps_are_parsed(text: Any, expected: float | None) -> None:
    assert parse_timestamp(text) == (pytest.approx(expected) if expected is not None else None)
