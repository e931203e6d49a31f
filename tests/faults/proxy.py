"""A TCP proxy owned by a test, between a server and PostgreSQL, that can play a database restart from the
client's side: every open connection reset, new connections refused, until it is back."""
from __future__ import annotations

import socket
import struct
import threading


class OutageProxy:
    """127.0.0.1:<port> → the upstream address. `outage()` resets every connection through it and closes its
    listening socket, so a connect is refused (ECONNREFUSED) as by a server that is down; `back()` listens again."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = 0
        self.connections = 0   # accepted since the start, for the test to see that the server came back
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None

    def start(self) -> "OutageProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()
        return self

    back = start

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return   # the listener was closed: the outage began or the proxy stopped
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
                self.connections += 1
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source, target)

    def _drop(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with self._lock:
                if sock not in self._open:
                    continue
                self._open.discard(sock)
            try:
                # Linger 0: close() sends a reset, as a crashed server's host does, not an orderly FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RD)   # wakes the other pump blocked in recv()
            except OSError:
                pass
            sock.close()

    def outage(self) -> None:
        """Refuse new connections from now on and reset every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
            self._accepting.join(5)
        with self._lock:
            open_now = list(self._open)
        self._drop(*open_now)

    def stop(self) -> None:
        self.outage()
