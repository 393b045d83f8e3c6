"""What each agent pane is doing: starting, working, waiting for the user, idle, or exited.

- ``model``: the states and how one is written into the pane's tmux option;
- ``report``: the program an agent's hooks run to record a state (standard library only);
- ``instrument``: the flags that make each CLI run ``report`` at the right moments;
- ``turns``: the state a transcript's last records show, for CLIs without hooks;
- ``history``: every change, kept in SQLite, so time per state can be summed.

The service that puts them together is ``services/agent_state.py``.
"""
