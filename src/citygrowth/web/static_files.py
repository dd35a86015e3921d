"""Static files, with precompressed assets served as they are stored.

Large vendored libraries (ECharts, 1 MB) are kept in the package only gzip-compressed
(``echarts.min.js.gz``, byte-for-byte the published file once decompressed): a request for
``/static/…/echarts.min.js`` gets the ``.gz`` file as is with ``Content-Encoding: gzip`` when
the client accepts gzip (every browser does: a third of the bytes on the wire and on disk), and
the decompressed file otherwise."""

from __future__ import annotations

import gzip
import mimetypes
import os

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class PrecompressedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] in ("GET", "HEAD"):
            _, found = self.lookup_path(path)
            if found is None:
                full, packed = self.lookup_path(path + ".gz")
                if packed is not None and os.path.isfile(full):
                    return self._compressed(path, full, packed, scope)
        return await super().get_response(path, scope)

    def _compressed(self, path: str, full: str, stat: os.stat_result, scope: Scope) -> Response:
        media = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if media.startswith("text/") or media.endswith(("javascript", "json")):
            media += "; charset=utf-8"
        accepts = Headers(scope=scope).get("accept-encoding", "")
        if "gzip" in {part.split(";")[0].strip().lower() for part in accepts.split(",")}:
            response = self.file_response(full, stat, scope)
            response.headers["content-type"] = media
            response.headers["content-encoding"] = "gzip"
            response.headers["vary"] = "Accept-Encoding"
            return response
        with gzip.open(full, "rb") as fh:
            body = fh.read()
        return Response(body, media_type=media.split(";")[0],
                        headers={"vary": "Accept-Encoding"})
