"""``python -c <this file's text> MODULE:APP OPTIONS``: serves an ASGI app with uvicorn on a
port of 127.0.0.1 it binds itself, printing that port as its first line (see server.py).

OPTIONS is a Python literal dict of extra ``uvicorn.Config`` arguments.
"""

import ast
import os
import socket
import sys
import threading


def main() -> None:
    app, options = sys.argv[1], ast.literal_eval(sys.argv[2])
    # As uvicorn's command line does with its --app-dir (default: the current directory).
    sys.path.insert(0, os.getcwd())
    import uvicorn

    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and a plain socket() has proto 0. Without it Nagle holds the body back behind the
    # headers for a delayed ACK: 45 ms per request instead of 0.4 ms (measured on the
    # FastAPI example, GET /).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sys.stdout.write(f"{sock.getsockname()[1]}\n")
    sys.stdout.flush()
    # From now on stdout is the log's: an app printing much would otherwise fill a pipe
    # nobody reads and block.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    config = uvicorn.Config(app, **{"access_log": False, **options})
    server = uvicorn.Server(config)

    def stop_when_parent_goes() -> None:
        sys.stdin.buffer.read()
        server.should_exit = True

    threading.Thread(target=stop_when_parent_goes, daemon=True).start()
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
