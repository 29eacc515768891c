"""One window per database: a second launch on the same database brings the first to front.

The running app listens on a QLocalServer whose name is derived from the database location
(and the user), so the demo and the real database can be open side by side.
"""

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

MESSAGE = b"raise\n"


def server_name(database_key: str) -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some sandboxes
        user = ""
    digest = hashlib.sha256(f"{user}\x1f{database_key}".encode()).hexdigest()[:20]
    return f"tracekit-{digest}"


class SingleInstance(QObject):
    activated = Signal()

    def __init__(self, database_key: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(database_key)
        self.server: QLocalServer | None = None

    def notify_running(self, timeout_ms: int = 500) -> bool:
        """Ask an already running app to come to the front; True if one answered."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(MESSAGE)
        socket.flush()
        socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        return True

    def listen(self) -> bool:
        """Become the running instance (removing a stale socket left by a crash)."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return False
        server.newConnection.connect(self._accept)
        self.server = server
        return True

    def _accept(self) -> None:
        assert self.server is not None
        while (socket := self.server.nextPendingConnection()) is not None:
            # The message is one short line already sent by the time the connection is seen.
            if socket.bytesAvailable() or socket.waitForReadyRead(200):
                data = bytes(socket.readAll().data())
                if MESSAGE.strip() in data:
                    self.activated.emit()
            socket.disconnectFromServer()
            socket.deleteLater()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
