"""Atomic output: write to a temporary sibling, rename into place on success.

An interrupted or failing job therefore never leaves a file (or zarr directory)
that looks finished. Used by every writer in the package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; move it onto ``path`` if the block succeeds.

    The temporary name starts with ``.`` and ends with ``.tmp-<random>`` so it is
    never mistaken for a result. An existing ``path`` is replaced only after the
    new content is complete. On any exception the temporary is deleted.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    # temporaries of an earlier writer that was killed (SIGKILL leaves no chance to clean up)
    for stale in final.parent.glob(f".{final.name}.tmp-*"):
        _remove(stale)
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"atomic write of {final} produced no output at {tmp}")
        if final.is_dir() and not final.is_symlink():
            old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists() or tmp.is_symlink():
            _remove(tmp)
