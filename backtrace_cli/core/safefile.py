"""A user's file, looked at before it is opened: a regular file, inside the folder given, small.

A class folder is hostile input: a FIFO would hang the read, /dev/zero would fill memory, a
symlink could lead to the teacher's own files. So nothing is opened before `stat` says it is
an ordinary file of at most MAX_BYTES, and a link that leaves the folder is never followed.
"""

from __future__ import annotations

import os
import stat

from .errors import ConfigError

MAX_BYTES = 2_000_000  # a config or answers file is hand-written; anything larger is a mistake

# what `stat` says a path is, as a message names it
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def inside(path: str, root: str) -> bool:
    """Does `path`, every link resolved, stay within the folder `root`?"""
    real, top = os.path.realpath(path), os.path.realpath(root)
    try:
        return os.path.commonpath([real, top]) == top
    except ValueError:  # another drive (Windows)
        return False


def check(path: str, root: str | None = None, what: str = "a config") -> os.stat_result:
    """The file's `stat` if it may be read (ConfigError naming the file if not); opens nothing."""
    if root is not None and not inside(path, root):
        # said before any stat of the target, so that the message is the same whether or
        # not the file it leads to exists: no oracle for the teacher's files
        raise ConfigError(
            path,
            None,
            None,
            f"is a link that leads out of the folder {root}; only files in it are read",
        )
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(path, None, None, "no such file") from None
    except OSError as err:
        raise ConfigError(path, None, None, f"cannot be read: {err.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(path, None, None, f"is {_kind(info.st_mode)}, not {what}")
    if info.st_size > MAX_BYTES:
        raise ConfigError(path, None, None, _too_big(info.st_size, what))
    return info


def _too_big(size: int, what: str) -> str:
    return (
        f"the file is {size:,} bytes; {what} may have at most {MAX_BYTES:,} bytes "
        "(use seeded initialisation for large layers)"
        if what == "a config"
        else f"the file is {size:,} bytes; {what} may have at most {MAX_BYTES:,} bytes"
    )


def read_bytes(path: str, root: str | None = None, what: str = "a config") -> bytes:
    """The file's bytes, once `check` allows it; never more than MAX_BYTES + 1 are read."""
    info = check(path, root, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    target = path
    if root is not None:
        # the links were resolved and found inside the folder: open that very file, and
        # refuse a link put in its place since
        target = os.path.realpath(path)
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(target, flags)
    except OSError as err:
        raise ConfigError(path, None, None, f"cannot be read: {err.strerror}") from None
    try:
        opened = os.fstat(handle)
        # a file swapped between the stat and the open (a FIFO put in its place) is not read
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(
            opened.st_mode
        ):
            raise ConfigError(path, None, None, "changed while it was being read; try again")
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(handle, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise ConfigError(path, None, None, f"cannot be read: {err.strerror}") from None
    finally:
        os.close(handle)
    if size > MAX_BYTES:  # it grew after the stat
        raise ConfigError(path, None, None, _too_big(size, what))
    return b"".join(chunks)


def read_text(
    path: str, root: str | None = None, what: str = "a config", form: str = "YAML"
) -> str:
    """The file's text (UTF-8), once `check` allows it; ConfigError naming the file if not."""
    data = read_bytes(path, root, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Windows Notepad's "Unicode"
            problem = f"saved as UTF-16; save it as UTF-8 (expected UTF-8 {form})"
        else:
            problem = f"not a text file (expected UTF-8 {form})"
        raise ConfigError(path, None, None, problem) from None
