"""Writing files: atomically, never over an existing file unless asked. Cheap to import."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .errors import ConfigError


def writable(path: str, *, force: bool = False, option: str = "-o") -> tuple[Path, Path]:
    """Refuse early what `write_text` would refuse at the end (a folder, an existing file
    without --force, a missing folder): the target and its folder."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ConfigError(path, None, option, "is a folder; give a file name")
    if not force:
        refuse_existing(path, option)
    if not folder.is_dir():
        raise ConfigError(
            path, None, option, f"the folder {str(folder)!r} does not exist; create it first"
        )
    return target, folder


def refuse_existing(path: str, option: str = "-o") -> None:
    """A file the output would replace, refused without --force — said before the work, not
    after. A device or a FIFO is written into, as a shell's `>` writes (`-o /dev/stdout`)."""
    if os.path.isfile(path) or (os.path.lexists(path) and not os.path.exists(path)):
        raise ConfigError(path, None, option, "exists already; use --force to overwrite it")


def special(target: Path) -> bool:
    """A device, a FIFO or a socket (`-o /dev/stdout`, `-o /dev/null`), links followed: written
    into as a shell's `>` writes, never replaced by a file (as root, a rename over /dev/null
    would replace the device for the whole machine)."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def write_text(path: str, text: str, *, force: bool = False, option: str = "-o") -> None:
    """Write `text` to `path` through a temporary file in the same folder, then rename.

    An interrupted run leaves the target as it was: never half-written.
    """
    write_bytes(path, text.encode("utf-8"), force=force, option=option)


def write_bytes(path: str, data: bytes, *, force: bool = False, option: str = "-o") -> None:
    """Write `data` (a zip) to `path` as `write_text` writes text: whole, or not at all."""
    target, folder = writable(path, force=force, option=option)
    if special(target):  # nothing on disk to leave half-written: written as it streams
        try:
            with open(target, "wb") as stream:
                stream.write(data)
        except OSError as err:
            raise ConfigError(path, None, option, f"cannot be written: {err.strerror}") from None
        return
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as err:
        raise ConfigError(
            path, None, option, f"cannot write in {str(folder)!r}: {err.strerror}"
        ) from None
    try:
        # mkstemp makes 0600: give the file the mode an ordinary open() would have (the
        # umask's), or the overwritten file's own, so that a web folder can still serve it
        os.chmod(temporary, _mode(target))
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if not force and target.exists():  # appeared meanwhile: still never clobber
            raise ConfigError(path, None, option, "exists already; use --force to overwrite it")
        os.replace(temporary, target)
    except BaseException as err:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise ConfigError(path, None, option, f"cannot be written: {err.strerror}") from None
        raise


def _mode(target: Path) -> int:
    """The permission bits a written file gets: an existing file's own, else 0666 less the
    umask (0644 under the usual 022), as `open(path, "w")` would create it."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mask = os.umask(0)  # the only portable way to read the umask is to set it
        os.umask(mask)
        return 0o666 & ~mask
