"""Replacing a file atomically and without surprises: what ``Model.save`` does with the path it is given.

* The data goes to a temporary file in the target's own directory, renamed over the target once complete: a
  save that fails part-way (disk full, Ctrl-C) leaves no truncated file and keeps the previous one.
* A symlink is written through: the file it points to is replaced and the link keeps pointing at it (a
  dangling link gets its target created), instead of the link being replaced by a regular file.
* Only a regular file is replaced: a directory raises ``IsADirectoryError``, anything else that exists at the
  path (a device node such as ``/dev/null``, a FIFO, a socket) ``FileExistsError``; a file the caller may not
  write raises ``PermissionError``, as ``open`` would.
* The replaced file keeps its permission bits (a 0600 file stays 0600) and, where the caller may set them, its
  owner and group; a new file gets what ``open`` gives (0666 less the umask).
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading

from ._archive import file_kind

__all__ = ["replace_atomically"]


def replace_atomically(path, write):
    """Call ``write(fh)`` on a fresh binary file, then put it at ``path`` as described in the module docstring."""
    path = os.fsdecode(os.fspath(path))
    target = os.path.realpath(path)  # through symlinks, so that the rename replaces the file, not the link
    existing = _existing(target, path)
    tmp = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(tmp, "xb") as fh:
            write(fh)
        if existing is not None:
            _keep_owner_and_mode(tmp, existing)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _existing(target, path):
    """``os.stat`` of what ``target`` replaces (``None`` if nothing), refusing what save must not replace."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
    if not stat.S_ISREG(st.st_mode):
        raise FileExistsError(errno.EEXIST, f"exists and is {file_kind(st.st_mode)}, not a regular file; "
                              "save replaces regular files only", path)
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "Permission denied", path)
    return st


def _keep_owner_and_mode(tmp, st):
    """Give the new file the owner, group and permission bits of the file it replaces (owner and group only
    where allowed: root, or a group the caller belongs to); set-id bits are not carried over."""
    if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()) and hasattr(os, "chown"):
        with contextlib.suppress(PermissionError):
            os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, stat.S_IMODE(st.st_mode) & 0o777)
