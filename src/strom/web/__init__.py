"""The web endpoint of a running App: a status page with the topology drawn, JSON status,
Prometheus metrics and interactive queries over HTTP (forwarded to the instance that owns a
key). Standard library only (``http.server``); binds 127.0.0.1 unless told otherwise.

    server = strom.web.serve(app, port=0)        # a background thread
    app.config["application.server"] = server.address
    app.start()
    print(server.url)                            # open it in a browser
"""

from strom.web.server import WebServer, parse_bind, serve
from strom.web.svg import to_svg

__all__ = ["WebServer", "parse_bind", "serve", "to_svg"]
