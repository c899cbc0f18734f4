"""A stand-in for the Hugging Face Hub's file API on 127.0.0.1, serving a saved pipeline folder as one repo.

``huggingface_hub`` (the real library, pointed here with ``HF_ENDPOINT``) downloads from it as it
would from the Hub: the repo's revision info, then each file's ``resolve`` URL (HEAD, then GET).
``gated=True`` answers like a gated repo without a token of the right account (401 and its header).
Every request is logged, so a test can see what was fetched.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Hub:
    """The running stand-in: its URL, the repo it serves, and the paths asked for."""

    url: str
    repo: str
    requests: list[str] = field(default_factory=list)


def _oid(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


@contextmanager
def model_hub(folder: Path, repo: str = "tiny-org/tiny-flux", *, gated: bool = False) -> Iterator[Hub]:
    """Serve ``folder`` as the model repo ``repo`` until the block ends."""
    files = {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}
    hub = Hub("", repo)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:  # quiet: the log is hub.requests
            pass

        def do_HEAD(self) -> None:
            self.answer(body=False)

        def do_GET(self) -> None:
            self.answer(body=True)

        def answer(self, *, body: bool) -> None:
            path = unquote(self.path.split("?")[0])
            hub.requests.append(f"{self.command} {path}")
            if gated:
                self.send(401, b'{"error":"Access to model tiny-org/tiny-flux is restricted."}', body, gated="1")
                return
            if path.startswith(f"/api/models/{repo}/tree/"):
                tree = [
                    {"type": "file", "path": name, "size": file.stat().st_size, "oid": _oid(name)}
                    for name, file in files.items()
                ]
                self.send(200, json.dumps(tree).encode(), body, content_type="application/json")
                return
            if path.startswith(f"/api/models/{repo}"):
                info = {
                    "id": repo, "modelId": repo, "sha": COMMIT, "private": False, "gated": False,
                    "siblings": [{"rfilename": name} for name in files],
                }  # fmt: skip
                self.send(200, json.dumps(info).encode(), body, content_type="application/json")
                return
            prefix = f"/{repo}/resolve/"
            if path.startswith(prefix) and path[len(prefix) :].split("/", 1)[-1] in files:
                data = files[path[len(prefix) :].split("/", 1)[1]].read_bytes()
                self.send(200, data, body, etag=hashlib.sha256(data).hexdigest())
                return
            self.send(404, b'{"error":"Entry not found"}', body, content_type="application/json")

        def send(
            self,
            status: int,
            data: bytes,
            body: bool,
            *,
            content_type: str = "application/octet-stream",
            etag: str = "",
            gated: str = "",
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Repo-Commit", COMMIT)
            if etag:
                self.send_header("ETag", f'"{etag}"')
            if gated:
                self.send_header("X-Error-Code", "GatedRepo")
                self.send_header("X-Error-Message", "Access to this model is restricted.")
            self.end_headers()
            if body:
                self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
