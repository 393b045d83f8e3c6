"""The workspace model: spaces, panes, their layout, and the versioned JSON document.

A space's document lives at ``<dir>/.jupyter-spaces/space.json``. One module per concern:
basics (constants, ids, the error), layout (the tree), fields and documents (reading and writing
the document), validation (its JSON Schema). Every name is importable from here.
"""

from ..agents.model import valid_session_id  # model's own import once; plan.py takes it here
from .basics import (
    _SESSION_ID_RE as _SESSION_ID_RE,
)
from .basics import (
    AGENTS,
    MAX_LAYOUT_DEPTH,
    PANE_KINDS,
    SCHEMA_VERSION,
    SPLIT_DIRECTIONS,
    Layout,
    WorkspaceError,
    check_kind,
    env_name,
    new_pane_id,
    new_space_id,
    now_iso,
    runnable_text,
    valid_id,
)
from .documents import (
    LaunchProfile,
    Pane,
    Space,
)
from .fields import (
    check_cwd,
)
from .layout import (
    layout_add,
    layout_panes,
    layout_remove,
    validate_layout,
)
from .validation import (
    load_schema,
    validate_schema,
)

__all__ = [
    "AGENTS",
    "MAX_LAYOUT_DEPTH",
    "PANE_KINDS",
    "SCHEMA_VERSION",
    "SPLIT_DIRECTIONS",
    "LaunchProfile",
    "Layout",
    "Pane",
    "Space",
    "WorkspaceError",
    "check_cwd",
    "check_kind",
    "env_name",
    "layout_add",
    "layout_panes",
    "layout_remove",
    "load_schema",
    "new_pane_id",
    "new_space_id",
    "now_iso",
    "runnable_text",
    "valid_id",
    "valid_session_id",
    "validate_layout",
    "validate_schema",
]
