"""The store's run log: one entry per command run, with its summary."""

from __future__ import annotations

import json
from dataclasses import asdict

from newsmirror.models import RunRecord, RunSummary, utcnow
from newsmirror.store.base import StoreBase
from newsmirror.store.rows import iso, parse_iso, run_summary_from_json


class RunLog(StoreBase):
    """The run log."""

    def start_run(self, command: str) -> int:
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO runs (command, started) VALUES (?, ?) RETURNING id", (command, iso(utcnow()))
            ).fetchone()
            return int(row[0])

    def finish_run(self, run_id: int, summary: RunSummary) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET finished = ?, summary = ? WHERE id = ?",
                (iso(utcnow()), json.dumps(asdict(summary), ensure_ascii=False), run_id),
            )

    def runs(self, last: int) -> list[RunRecord]:
        """The ``last`` entries of the run log, newest first."""
        rows = self._db.execute(
            "SELECT id, command, started, finished, summary FROM runs ORDER BY id DESC LIMIT ?", (last,)
        )
        return [
            RunRecord(
                id=r["id"],
                command=r["command"],
                started=parse_iso(r["started"]),
                finished=parse_iso(r["finished"]) if r["finished"] else None,
                summary=run_summary_from_json(r["summary"]) if r["finished"] else None,
            )
            for r in rows
        ]
