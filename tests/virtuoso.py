"""A Virtuoso 7 server of the tests' own: free loopback ports, a temporary database, stopped after.

``VirtuosoServer.start(directory)`` writes a ``virtuoso.ini`` into ``directory`` (database, log and
transaction files there too), starts ``virtuoso-t +foreground`` with HTTP and ISQL bound to
127.0.0.1 on free ports, waits until its SPARQL endpoint answers, then, through ``isql-vt``,
replaces the well-known ``dba`` password by a random one and creates a user with the
``SPARQL_UPDATE`` role (the account ``/sparql-auth`` and ``/sparql-graph-crud-auth`` accept with
HTTP digest authentication). Anonymous ``/sparql`` stays read-only. ``stop()`` ends the server
(SIGTERM, then SIGKILL after 20 s). The Debian package is ``virtuoso-opensource``
(``make test-deps``); without ``virtuoso-t`` the fixture skips and says so.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import free_port

__all__ = ["VirtuosoServer", "virtuoso_binaries"]

_VSP = "/var/lib/virtuoso-opensource-7/vsp"  # the Debian package's HTTP root (static pages)

_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{isql}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 4

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {vsp}
MaxClientConnections = 10
ServerThreads = 10
EnabledDavVSP = 0
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 0
; 0: no refusal by estimated cost (7.2 refuses the bin-index plans, estimating 0 s > 400 s)
"""


def virtuoso_binaries() -> tuple[str, str] | None:
    """``virtuoso-t`` and ``isql-vt`` (Debian's names), or None when either is missing."""
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    return (server, isql) if server and isql else None


@dataclass
class VirtuosoServer:
    """A running Virtuoso: its URLs, the loader account and the ``dba`` password."""

    directory: Path
    http_port: int
    isql_port: int
    process: subprocess.Popen[bytes]
    user: str = "gff2rdf_loader"
    password: str = field(default_factory=lambda: "p" + secrets.token_hex(12))
    dba_password: str = field(default_factory=lambda: "p" + secrets.token_hex(12))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @classmethod
    def start(cls, directory: Path, timeout: float = 90.0) -> VirtuosoServer:
        found = virtuoso_binaries()
        if found is None:
            raise FileNotFoundError("virtuoso-t / isql-vt not found")
        directory.mkdir(parents=True, exist_ok=True)
        http, isql = free_port(), free_port()
        while isql == http:
            isql = free_port()
        ini = directory / "virtuoso.ini"
        ini.write_text(_INI.format(d=directory, http=http, isql=isql, vsp=_VSP))
        log = open(directory / "stdout.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([found[0], "+foreground", "+configfile", str(ini)],
                                cwd=directory, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        server = cls(directory, http, isql, proc)
        try:
            server._wait(timeout)
            server.isql(f"DB.DBA.USER_CREATE('{server.user}', '{server.password}'); "
                        f"GRANT SPARQL_UPDATE TO \"{server.user}\"; "
                        f"set password dba {server.dba_password};",  # SET PASSWORD old new
                        password="dba")
        except BaseException:
            server.stop()
            raise
        return server

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/sparql?query=ASK%7B%7D", timeout=2):
                    return
            except (urllib.error.URLError, OSError) as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"virtuoso-t did not start ({exc}); its log: "
                                       f"{self.log_tail()}") from exc
                time.sleep(0.2)

    def log_tail(self, lines: int = 15) -> str:
        path = self.directory / "virtuoso.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def isql(self, sql: str, password: str | None = None) -> str:
        """Run SQL through ``isql-vt`` as ``dba``; raises with its output on an error."""
        found = virtuoso_binaries()
        assert found is not None
        done = subprocess.run(
            [found[1], f"127.0.0.1:{self.isql_port}", "dba", password or self.dba_password,
             f"exec={sql}"], capture_output=True, text=True, timeout=120)
        output = done.stdout + done.stderr
        if done.returncode != 0 or "*** Error" in output:
            raise RuntimeError(f"isql-vt failed: {output[-500:]}")
        return output

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
