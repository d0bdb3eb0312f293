"""A TCP proxy in front of the embedded PostgreSQL's unix socket, so a test can take the database away and
bring it back (a real outage as the app sees it: refused connections, cut sessions) without stopping the
server the rest of the run shares."""

from __future__ import annotations

import asyncio
import contextlib
import glob
from urllib.parse import parse_qs, urlsplit


class PgProxy:
    def __init__(self, db_url: str) -> None:
        parts = urlsplit(db_url)
        socket_dir = parse_qs(parts.query)["host"][0]
        sockets = glob.glob(f"{socket_dir}/.s.PGSQL.*")
        assert sockets, f"no postgres socket in {socket_dir}"
        self.socket_path = sockets[0]
        self.user = parts.username or "postgres"
        self.database = parts.path.lstrip("/")
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for w in list(self._writers):
            w.close()
        for t in list(self._pipes):
            t.cancel()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.socket_path)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        for task in (
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
        ):
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)
