"""Heads and the rule for which way their metrics improve; their scores and reports are in `zoo.tasks.reports`."""

from zoo.tasks.direction import (
    best_index,
    improvement_mode,
    is_improvement,
    monitored_value,
)
from zoo.tasks.heads import (
    TASKS,
    ClassifyTask,
    ForecastTask,
    RegressTask,
    Task,
    get_task,
)

__all__ = [
    "TASKS",
    "ClassifyTask",
    "ForecastTask",
    "RegressTask",
    "Task",
    "best_index",
    "get_task",
    "improvement_mode",
    "is_improvement",
    "monitored_value",
]
