"""Paths from clients, resolved so they never leave the server's root directory."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from .errors import SpacesError


def resolve_inside(root: Path, rel: object, what: str = "path") -> Path:
    """``rel`` (a relative POSIX path) resolved against ``root``; symlinks are followed and the
    result must still be inside ``root``. Raises SpacesError(400/404) with the reason."""
    if not isinstance(rel, str):
        raise SpacesError(400, f"{what} must be a string")
    if "\x00" in rel:
        raise SpacesError(400, f"{what} contains a NUL character")
    pure = PurePosixPath(rel)
    if pure.is_absolute() or rel.startswith("~"):
        raise SpacesError(400, f"{what} must be relative to the server's root, not {rel!r}")
    if ".." in pure.parts:
        raise SpacesError(400, f"{what} {rel!r} may not contain '..'")
    try:
        target = (root / pure).resolve()
    except (OSError, RuntimeError) as e:  # a name too long, a symlink loop
        raise SpacesError(400, f"{what} {rel[:200]!r} cannot be used: {e}") from None
    if target != root and root not in target.parents:
        raise SpacesError(400, f"{what} {rel!r} points outside the server's root")
    return target


def existing_dir(root: Path, rel: object, what: str = "path") -> Path:
    target = resolve_inside(root, rel, what)
    try:
        exists, is_dir = target.exists(), target.is_dir()
    except OSError as e:  # ENAMETOOLONG, EACCES on the way
        raise SpacesError(400, f"{what} {str(rel)[:200]!r} cannot be used: {e.strerror}") from None
    if not exists:
        raise SpacesError(404, f"{what} {rel!r} does not exist")
    if not is_dir:
        raise SpacesError(400, f"{what} {rel!r} is not a directory")
    return target


def relative_to_root(root: Path, path: Path) -> str | None:
    """``path`` relative to ``root`` as POSIX text ("" for the root), or None if outside."""
    try:
        rel = path.resolve().relative_to(root)
    except ValueError:
        return None
    return "" if str(rel) == "." else rel.as_posix()
