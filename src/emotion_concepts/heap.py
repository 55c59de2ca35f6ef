"""Give freed memory back to the operating system.

Reading thousands of batches of different lengths makes glibc's allocator keep the freed
blocks of every size it has seen: a full-layer read of the corpus grew by about 25 MB a batch
and was killed for lack of memory at 24 GB, although no tensor was kept. ``trim`` asks the
allocator to release what is free (``malloc_trim``); elsewhere than glibc it does nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def trim() -> None:
    fn = _malloc_trim()
    if fn is not None:
        fn(0)


def trimming(batches: Iterable[T], every: int = 8) -> Iterator[T]:
    """Yield ``batches``, trimming the heap after every ``every``-th one has been processed (when
    the loop asks for the next): the loops that run the model over batches of varying length."""
    for k, batch in enumerate(batches):
        yield batch
        if k % every == every - 1:
            trim()
