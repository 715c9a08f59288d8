"""Atomic file writes: a temporary file beside the target, then ``os.replace``.

A crash or error mid-write leaves any previous file at the target intact and no temporary
file behind. Callers turn the ``OSError`` into the typed error of their layer.
(Whole directories, such as checkpoints, are swapped in by
:meth:`syntho_hive.core.checkpoint.CheckpointContent.write`.)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then move the finished file onto ``path``.

    The temporary file gets the permissions a newly created file would get (umask applied).

    Args:
        path: Target file; its folder must exist.
        write: Writes the complete content to the path it is given.

    Returns:
        The target path.

    Raises:
        OSError: The folder is missing or not writable, or ``write`` failed with it (naming
            ``path``, never the temporary file).
        Exception: Whatever ``write`` raised (the temporary file is removed first).
    """
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # its message names the temporary file, which the caller never asked for
        raise _naming(exc, target) from exc
    os.close(handle)
    try:
        write(Path(temporary))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except OSError as exc:
        if str(exc.filename) != temporary:  # another file's error: as it is
            raise
        raise _naming(exc, target) from exc
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def _naming(exc: OSError, target: Path) -> OSError:
    """``exc`` (same type, errno and reason) about ``target`` rather than the temporary file."""
    return type(exc)(exc.errno, exc.strerror, str(target))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write`."""
    return atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
