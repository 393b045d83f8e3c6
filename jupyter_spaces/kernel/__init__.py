"""The kernel side: ``%spaces``, its results and panel, and the client that finds and calls the
server. It talks to the server over HTTP only and imports nothing from the server side
(tests/test_import_cycles.py holds it to that)."""
