"""Background work: the UI thread never waits on the model, the disk or the database.

A :class:`Runner` (one per window tree, living on the UI thread) hands
callables to a :class:`QThreadPool` as :class:`QRunnable` tasks. A task
never touches a widget: it returns a value (or raises), and its signals
carry the outcome back, queued, to the runner, which then calls the
caller's callbacks on the UI thread.

The runner keeps every in-flight task's signal object alive until its
outcome is delivered, so nothing is collected mid-flight. The outcome
itself (a value, or an exception and its traceback) is left in a plain
Python holder by the worker; the queued signal carries only the task's
number. Python objects never cross threads inside Qt's queued events
(PySide mishandles the reference counts of some — ``None``, ``True`` —
when it does).
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException, str], None]


class _TaskSignals(QObject):
    finished = Signal(int)
    progress = Signal(int, int, int)


class _Outcome:
    """Where a worker leaves its result for the UI thread (written once, read after ``finished``)."""

    __slots__ = ("ok", "value", "details")

    def __init__(self) -> None:
        self.ok = False
        self.value: Any = None
        self.details = ""


class Progress:
    """Handed to a task function that asks for it (``progress=True``): call it with (done, total)."""

    def __init__(self, signals: _TaskSignals, task_id: int) -> None:
        self._signals = signals
        self._id = task_id

    def __call__(self, done: int, total: int) -> None:
        self._signals.progress.emit(self._id, int(done), int(total))


class _Task(QRunnable):
    def __init__(self, task_id: int, fn: Callable[..., Any], args: tuple, kwargs: dict, signals: _TaskSignals,
                 with_progress: bool, outcome: _Outcome) -> None:  # fmt: skip
        super().__init__()
        self.setAutoDelete(True)
        self._outcome = outcome
        self._id = task_id
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._signals = signals
        self._with_progress = with_progress

    def run(self) -> None:  # on a pool thread: no widgets here
        try:
            if self._with_progress:
                self._kwargs["progress"] = Progress(self._signals, self._id)
            self._outcome.value = self._fn(*self._args, **self._kwargs)
            self._outcome.ok = True
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the UI thread
            self._outcome.value = exc
            self._outcome.details = traceback.format_exc()
        finally:
            self._fn = self._args = self._kwargs = None  # type: ignore[assignment]
            self._signals.finished.emit(self._id)


@dataclass
class _Pending:
    name: str
    signals: _TaskSignals
    outcome: _Outcome
    on_done: Callback | None
    on_error: ErrorCallback | None
    on_progress: Callable[[int, int], None] | None
    discarded: bool = False


class Runner(QObject):
    """Runs callables on a thread pool and calls back on the UI thread.

    ``error_handler(exc, details)`` is used for tasks submitted without
    ``on_error`` (the main window shows a dialog). ``busy`` / ``idle``
    signals drive the status bar's spinner and the tests' waits.
    """

    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, threads: int = 2,
                 error_handler: ErrorCallback | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, threads))
        self.error_handler = error_handler
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def running(self, name: str) -> bool:
        """Whether a task submitted under ``name`` has not reported back yet."""
        return any(p.name == name for p in self._pending.values())

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "", on_done: Callback | None = None,
               on_error: ErrorCallback | None = None, on_progress: Callable[[int, int], None] | None = None,
               **kwargs: Any) -> int:  # fmt: skip
        """Run ``fn(*args, **kwargs)`` on the pool; returns the task id.

        With ``on_progress``, ``fn`` receives a ``progress(done, total)``
        keyword argument to report with.
        """
        task_id = next(self._ids)
        signals = _TaskSignals()  # created here, on the UI thread: its queued signals land here
        signals.finished.connect(self._finished)
        signals.progress.connect(self._progress)
        outcome = _Outcome()
        was_busy = self.busy
        self._pending[task_id] = _Pending(name or getattr(fn, "__name__", "task"), signals, outcome, on_done, on_error,
                                          on_progress)  # fmt: skip
        self.pool.start(_Task(task_id, fn, args, dict(kwargs), signals, on_progress is not None, outcome))
        if not was_busy:
            self.busyChanged.emit(True)
        return task_id

    def discard_callbacks(self) -> None:
        """Forget what the in-flight tasks were to call back (their window is closing); the tasks still end."""
        for pending in self._pending.values():
            pending.on_done = pending.on_error = pending.on_progress = None
            pending.discarded = True

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is idle (shutdown and tests only; never from a UI action)."""
        return self.pool.waitForDone(msecs)

    @staticmethod
    def _alive(callback: Callable[..., Any] | None) -> bool:
        """False when ``callback`` is a method of a Qt object that has been deleted meanwhile."""
        owner = getattr(callback, "__self__", None)
        return callback is not None and (not isinstance(owner, QObject) or shiboken6.isValid(owner))

    @Slot(int)
    def _finished(self, task_id: int) -> None:
        pending = self._pending.pop(task_id, None)
        if pending is None:
            return
        pending.signals.deleteLater()
        if not self._pending:
            self.busyChanged.emit(False)
        outcome = pending.outcome
        if pending.discarded:
            return
        if outcome.ok:
            if self._alive(pending.on_done):
                pending.on_done(outcome.value)
            return
        handler = pending.on_error or self.error_handler
        if self._alive(handler):
            handler(outcome.value, outcome.details)
        else:
            log.error("task %s failed: %s\n%s", pending.name, outcome.value, outcome.details)

    @Slot(int, int, int)
    def _progress(self, task_id: int, done: int, total: int) -> None:
        pending = self._pending.get(task_id)
        if pending is not None and self._alive(pending.on_progress):
            pending.on_progress(done, total)
