"""Write files atomically: a temporary file beside the target, then one rename into place."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imagery_tool.errors import OutputWriteError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "no_space_error"]

# What the system says when a file cannot grow: the disk or quota is full, or ``ulimit -f``.
_NO_SPACE = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def no_space_error(exc: BaseException, path: str | Path) -> OutputWriteError | None:
    """Return the one-line error for ``exc`` if it says that ``path`` could not grow, else None.

    Parameters
    ----------
    exc : BaseException
        What a write raised.
    path : str or Path
        The output the user asked for (not the temporary file it was being written to).

    Returns
    -------
    OutputWriteError or None
        "no space left / file too large for PATH", or None for any other error.
    """
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
        return OutputWriteError(
            f"cannot write {path}: no space left on the device or file too large "
            f"({exc.strerror}); free some space, raise the limit or choose another output"
        )
    return None


@contextmanager
def atomic_path(path: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; move it onto ``path`` when the block succeeds.

    The reader of ``path`` sees the old file or the complete new one, never a half-written one;
    when the block raises, the temporary file is removed and ``path`` is untouched. The new file
    gets the permissions a plain ``open(path, "w")`` would give it (the umask applies). A full
    disk or a file-size limit is reported as an `OutputWriteError` naming ``path``.

    Parameters
    ----------
    path : str or Path
        The file to write.
    suffix : str, optional
        Suffix of the temporary file (``path``'s own suffix by default, so that writers that
        choose a format by extension, such as GDAL, see the right one).

    Yields
    ------
    Path
        Where to write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    tmp: Path | None = None
    try:  # the temporary file is made inside the try, so that no exit path can leave it
        fd, name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=path.suffix if suffix is None else suffix, dir=folder
        )
        tmp = Path(name)
        os.close(fd)
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        raise (no_space_error(exc, path) or exc) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see `atomic_path`); return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` (Unix line ends) to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return Path(path)
