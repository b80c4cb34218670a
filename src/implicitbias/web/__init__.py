"""The web explorer (``implicitbias serve``): interactive pages and the run folders.

Standard library HTTP server, plain JavaScript pages in ``static/``; see ``docs/web.md``.
"""

from implicitbias.web.server import ExplorerServer, make_server, start_in_thread

__all__ = ["ExplorerServer", "make_server", "start_in_thread"]
