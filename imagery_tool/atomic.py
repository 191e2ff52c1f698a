"""Write files atomically: a temporary file beside the target, then one rename into place."""

from __future__ import annotations

import errno
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from imagery_tool.errors import ImageryToolError, OutputWriteError

__all__ = [
    "atomic_outputs",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_files",
    "atomic_write_text",
    "check_not_input",
    "check_output",
    "no_space_error",
]

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


def _temporary(path: Path, suffix: str | None) -> Path:
    """Create an empty temporary file beside ``path`` (hidden, ``path``'s suffix by default)."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=path.suffix if suffix is None else suffix, dir=folder
    )
    os.close(fd)
    return Path(name)


def _commit(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the permissions ``open(path, "w")`` would (the umask applies); rename it."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


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
    with atomic_outputs([path], suffixes=[suffix]) as (tmp,):
        yield tmp


@contextmanager
def atomic_outputs(
    paths: Sequence[str | Path], *, suffixes: Sequence[str | None] | None = None
) -> Iterator[list[Path]]:
    """Yield a temporary path per output; rename them all into place only if the block succeeds.

    The files of one run are committed together: when the block raises (an error, Ctrl-C,
    SIGTERM unwinding), every temporary file is removed and every previous output is left as it
    was. The renames happen one after the other once all files are complete; each is atomic.

    Parameters
    ----------
    paths : sequence of str or Path
        The files to write, all different.
    suffixes : sequence of str or None, optional
        Suffix of each temporary file (each path's own suffix by default).

    Yields
    ------
    list of Path
        Where to write each output, in the order of ``paths``.

    Raises
    ------
    OutputWriteError
        An output cannot be created, written or renamed into place (no space, file too large,
        permission denied, a folder in the way, a name too long), naming that output.
    ValueError
        Two of ``paths`` are the same file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_outputs([folder / "a.txt", folder / "b.txt"]) as (a, b):
    ...     _ = a.write_text("1"), b.write_text("2")
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt', 'b.txt']
    """
    paths = [Path(p) for p in paths]
    if len({p.absolute() for p in paths}) < len(paths):
        raise ValueError(f"the outputs of one run must differ, got {[str(p) for p in paths]}")
    suffixes = list(suffixes) if suffixes is not None else [None] * len(paths)
    temps: list[Path] = []
    current: Path | None = None  # the output being created or renamed, outside the block
    try:  # temporary files are made inside the try, so that no exit path can leave one
        for path, suffix in zip(paths, suffixes, strict=True):
            current = path
            temps.append(_temporary(path, suffix))
        current = None
        yield list(temps)
        with _signals_held():  # all renamed, or none: Ctrl-C waits for the last rename
            for tmp, path in zip(temps, paths, strict=True):
                current = path
                _commit(tmp, path)
    except OutputWriteError:
        raise
    except OSError as exc:
        if isinstance(exc, ImageryToolError):  # an input's error raised inside the block
            raise
        named = {str(t): p for t, p in zip(temps, paths, strict=False)}
        culprit = current or named.get(str(getattr(exc, "filename", None)))
        full = no_space_error(exc, culprit or _listed(paths))
        if full is not None:
            raise full from exc
        if culprit is None:  # not about one of the outputs
            raise
        raise OutputWriteError(
            f"cannot write {culprit}: {exc.strerror or exc}; check the free space, the file-size "
            "limit and that its folder is writable, or choose another output"
        ) from exc
    finally:
        with _signals_held():
            for tmp in temps:
                tmp.unlink(missing_ok=True)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM over a few file operations, then deliver them.

    Python runs signal handlers in the main thread between bytecodes, so an interrupt could
    otherwise land between two renames of one commit (half old, half new outputs), in the
    middle of the clean-up (temporaries left) or between the two ``umask`` calls. Only the main
    thread can swap handlers; elsewhere nothing is held.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {n: signal.signal(n, lambda number, frame: arrived.append(number)) for n in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        for number in dict.fromkeys(arrived):
            signal.raise_signal(number)


def _listed(paths: list[Path]) -> str:
    """Name several outputs in one short phrase: ``/out/a.json, a.csv, a.png``."""
    if not paths:
        return "the output"
    rest = [p.name if p.parent == paths[0].parent else str(p) for p in paths[1:]]
    return ", ".join([str(paths[0]), *rest])


def check_output(
    path: str | Path,
    *,
    inputs: Sequence[str | Path | None] = (),
    option: str = "output",
    folder: bool = False,
) -> Path:
    """Refuse, before any long work, an output that cannot be written or would replace an input.

    Parameters
    ----------
    path : str or Path
        The output file (or folder, with ``folder=True``) the user asked for.
    inputs : sequence of str or Path
        The files the run reads: the output may not be one of them (same file after resolving
        links, or a hard link to it).
    option : str
        The option that named ``path``, for the message.
    folder : bool
        ``path`` is an output folder (made if missing) rather than a file.

    Returns
    -------
    Path

    Raises
    ------
    OutputWriteError
        ``path`` is an input, a folder where a file is wanted (or the reverse), or its folder is
        missing or not writable.
    """
    path = check_not_input(path, inputs=inputs, option=option)
    if folder:
        if path.exists() and not path.is_dir():
            raise OutputWriteError(f"{option} {path} is a file; give a folder for the outputs")
        existing = next(p for p in (path, *path.absolute().parents) if p.exists())
        if not existing.is_dir():
            raise OutputWriteError(
                f"{option} {path}: {existing} is a file, not a folder; choose another output"
            )
    else:
        if path.is_dir():
            raise OutputWriteError(
                f"{option} {path} is a folder; give the name of a file (in it, or elsewhere)"
            )
        existing = path.parent if str(path.parent) else Path(".")
        if not existing.is_dir():
            raise OutputWriteError(
                f"{option} {path}: folder {existing} does not exist; create it first"
            )
    if not _writable(existing):
        raise OutputWriteError(
            f"{option} {path}: folder {existing} is not writable; choose another output"
        )
    return path


def check_not_input(
    path: str | Path, *, inputs: Sequence[str | Path | None] = (), option: str = "output"
) -> Path:
    """Refuse an output that is one of the inputs: the same file after resolving links.

    Symbolic links are resolved and hard links recognised (`os.path.samefile`), so no spelling
    of an input's path lets a command write over it.

    Parameters
    ----------
    path : str or Path
        The output file or folder.
    inputs : sequence of str, Path or None
        The files and folders the command reads (None entries are skipped).
    option : str
        The option or argument that named ``path``, for the message.

    Returns
    -------
    Path

    Raises
    ------
    OutputWriteError
        ``path`` is one of ``inputs``.

    Examples
    --------
    >>> check_not_input("out.json", inputs=["before.tif", None])
    PosixPath('out.json')
    """
    path = Path(path)
    for source in inputs:
        if source is not None and _same_file(path, Path(source)):
            raise OutputWriteError(
                f"{option} {path} is the input {source}: writing it would destroy the input; "
                "choose another output name"
            )
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried: permissions, read-only mounts, ACLs)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".imagery-tool-check.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see `atomic_path`); return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` (Unix line ends) to ``path`` atomically; return the path."""
    return atomic_write_files({path: text})[0]


def atomic_write_files(files: Mapping[str | Path, str | bytes]) -> list[Path]:
    """Write several files all together: every file replaced, or none.

    Text (``str``) is written as UTF-8 with Unix line ends, ``bytes`` as they are. Through
    `atomic_outputs`: a full disk on the third file of an export leaves no file of it behind,
    and the previous ones intact.

    Returns
    -------
    list of Path
        The paths, in the order given.
    """
    paths = [Path(p) for p in files]
    with atomic_outputs(paths) as temps:
        for tmp, content in zip(temps, files.values(), strict=True):
            if isinstance(content, bytes):
                tmp.write_bytes(content)
            else:
                with open(tmp, "w", encoding="utf-8", newline="\n") as f:
                    f.write(content)
    return paths
