"""The services the server is composed of, each owning its state (see docs/architecture.md).

``SpaceManager`` (``..manager``) builds them, in this order, each from the ones before it:
``Workspaces`` → ``Panes`` → ``Spaces`` → ``Restore`` → ``Snapshots``, ``AgentSessions``.
"""
