"""A problem with data/ (a file, a line, what is wrong) and the one exception that carries a list of them.

Light on purpose (no pydantic): every command catches DataProblems, and `kb show` must start fast.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class DataProblems(Exception):
    """data/ has problems, so what was asked is not done; `consequence` says what was kept or refused."""

    def __init__(self, problems: list, consequence: str = "fix them (kb validate) before importing"):
        super().__init__(f"data/ has {len(problems)} problem(s): {consequence}")
        self.problems = problems
