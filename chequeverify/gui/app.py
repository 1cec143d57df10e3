"""Starting the desktop app: QApplication, sign-in, the main window, log out and back in.

``run(...)`` is what ``chequeverify gui`` calls. With ``screenshot`` set the
app signs in with ``CHEQUEVERIFY_USER`` / ``CHEQUEVERIFY_PASSWORD``,
processes the given files, selects the first, saves a picture of the main
window and exits (for the README and the tests).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog

from chequeverify import config
from chequeverify.gui import icons, theme
from chequeverify.gui.workers import Runner

log = logging.getLogger(__name__)

#: the longest ``--screenshot`` waits for the queue before saving what it has
SCREENSHOT_TIMEOUT_S = 180


def settings_path() -> Path:
    """Where window geometry and recent folders are kept (``$CHEQUEVERIFY_GUI_SETTINGS`` or the XDG config dir)."""
    env = os.environ.get("CHEQUEVERIFY_GUI_SETTINGS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "chequeverify" / "gui.ini"


def open_settings() -> QSettings:
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created once), with the product's look."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(argv or [sys.argv[0]]))
    app.setApplicationName("chequeverify")
    app.setOrganizationName("chequeverify")
    app.setApplicationDisplayName("chequeverify")
    app.setWindowIcon(icons.app_icon())
    # between the sign-in window and the main window no window is open: quitting is explicit
    app.setQuitOnLastWindowClosed(False)
    if not app.property("cv_themed"):
        theme.apply(app)
        app.setProperty("cv_themed", True)
    return app


class DesktopApp:
    """Sign-in → main window → (log out) → sign-in again, until the user quits."""

    def __init__(self, folder: Path, *, files: Sequence[Path] = (), account: str | None = None,
                 user: str = "", password: str = "", hint: str = "", screenshot: Path | None = None,
                 size: QSize | None = None, on_ready=None) -> None:  # fmt: skip
        self.folder = Path(folder)
        self.files = [Path(f) for f in files]
        self.account = account
        self.user = user
        self.password = password
        self.hint = hint
        self.screenshot = screenshot
        self.size = size
        self.on_ready = on_ready
        self.runner = Runner(threads=2)
        self.settings = open_settings()
        self.workspace = None
        self.window = None
        self.login = None
        self.exit_code = 0
        self._deadline = 0.0

    # --- sign in -----------------------------------------------------------------------
    def show_login(self) -> None:
        from chequeverify.gui.login import LoginDialog

        self.login = LoginDialog(self.folder, self.runner, user=self.user, password=self.password, hint=self.hint,
                                 workspace=self.workspace)  # fmt: skip
        self.login.workspaceOpened.connect(self._workspace_opened)
        self.login.finished.connect(self._login_finished)
        self.login.show()
        if self.screenshot is not None:
            self.login.auto_submit()

    def _workspace_opened(self, ws) -> None:
        self.workspace = ws

    def _login_finished(self, result: int) -> None:
        dlg = self.login
        self.login = None
        if result != QDialog.DialogCode.Accepted or dlg is None or dlg.session is None:
            QApplication.instance().quit()
            return
        session = dlg.session
        dlg.deleteLater()
        from chequeverify.gui import jobs
        from chequeverify.service import ROLE_RIGHTS

        rights = tuple(sorted(set().union(*ROLE_RIGHTS.values())))
        self.runner.submit(jobs.profile, session, rights, name="profile",
                           on_done=lambda prof: self._open_main(session, *prof),
                           on_error=self._fatal)  # fmt: skip

    def _fatal(self, exc: BaseException, details: str) -> None:
        from chequeverify.gui.errors import show_error

        box = show_error(None, exc, details)
        box.finished.connect(lambda _=0: QApplication.instance().quit())
        self.exit_code = 1

    # --- the main window ---------------------------------------------------------------------
    def _open_main(self, session, user, rights) -> None:
        from chequeverify.gui.main_window import MainWindow

        self.window = MainWindow(session, self.runner, self.settings, user=user, rights=rights)
        self.window.logoutRequested.connect(self._logged_out)
        self.window.closed.connect(QApplication.instance().quit)
        if self.size is not None:
            self.window.resize(self.size)
        self.window.show()
        # heavy work starts once the window is on screen
        QTimer.singleShot(0, self.window.start)
        if self.files:
            self.window.add_paths(self.files, account=self.account)
        if self.on_ready is not None:
            self.on_ready(self.window)
        if self.screenshot is not None:
            self._deadline = time.monotonic() + SCREENSHOT_TIMEOUT_S
            QTimer.singleShot(200, self._screenshot_when_ready)

    def _logged_out(self) -> None:
        self.window.deleteLater()
        self.window = None
        self.password = ""
        self.show_login()

    # --- --screenshot ---------------------------------------------------------------------------
    def _screenshot_when_ready(self) -> None:
        w = self.window
        if w is None:
            return
        model_done = w.model_id is not None or w.model_error is not None
        queued = w.model.rowCount() > 0 or not self.files
        ready = model_done and w.accounts_loaded and queued and w.queue_idle() and not w.runner.busy
        if not ready and time.monotonic() < self._deadline:
            QTimer.singleShot(100, self._screenshot_when_ready)
            return
        if not ready:
            log.warning("screenshot: the queue was not done after %s s", SCREENSHOT_TIMEOUT_S)
            self.exit_code = 1
        if w.model.rowCount():
            w.select_item(w.model.item(0))
        # let the selection's image load (a worker) and the layout settle
        QTimer.singleShot(300, self._save_screenshot)

    def _save_screenshot(self) -> None:
        w = self.window
        if w is not None and w.runner.busy and time.monotonic() < self._deadline:
            QTimer.singleShot(100, self._save_screenshot)
            return
        QApplication.processEvents()
        assert self.screenshot is not None
        self.screenshot.parent.mkdir(parents=True, exist_ok=True)
        if not w.grab().save(str(self.screenshot)):
            print(f"chequeverify: cannot write {self.screenshot}", file=sys.stderr)
            self.exit_code = 1
        else:
            print(f"saved {self.screenshot}")
        w.close()
        QApplication.instance().quit()


def run(folder: Path, *, files: Sequence[Path] = (), account: str | None = None, user: str = "",
        password: str = "", hint: str = "", screenshot: Path | None = None,
        size: tuple[int, int] | None = None) -> int:  # fmt: skip
    """Open the app on the workspace ``folder``; returns the exit status."""
    app = application()
    desk = DesktopApp(folder, files=files, account=account, user=user, password=password, hint=hint,
                      screenshot=screenshot, size=QSize(*size) if size else None)  # fmt: skip
    desk.show_login()
    status = app.exec()
    desk.runner.wait(30000)
    if desk.workspace is not None:
        desk.workspace.close()
    return desk.exit_code or int(status)


def default_folder() -> Path:
    return config.default_workspace()
