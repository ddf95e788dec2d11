"""Files behind a URL: ``http(s)://`` with HTTP range requests (urllib, nothing to
install), ``hf://`` and ``s3://`` through fsspec when it is installed (the ``remote``
extra; hf:// also needs huggingface_hub, s3:// s3fs).

h5py opens a Python file object; :class:`RangeFile` is one over HTTP that fetches
ranges with ``Range: bytes=a-b``, reading ahead, and keeps the last few: the HDF5
library's many small metadata reads (superblock, object headers, B-tree nodes,
attributes) cost one request per block, not one per read. Levels 0-2 read metadata
only, reading ahead ``METADATA_BLOCK`` to ``METADATA_MAX``, so they fetch a few percent
of a data file at most; levels 3 and up stream the data, reading ahead up to
``DATA_BLOCK`` where the reads are sequential. ``bytes_read`` counts what came over the
network.

The safe-open rules hold: the HDF5 signature is looked for before HDF5 sees a byte
(``preflight``), the walk follows no soft or external link, and a file whose data live
in other files (external storage, virtual datasets) is refused at L0 before any data is
read. A server that ignores range requests (answers 200 with the whole file) is refused
rather than downloaded.
"""

from __future__ import annotations

import io
import re
from collections import OrderedDict

from .safe_open import HDF5_SIGNATURE

SCHEMES = ("http://", "https://")
FSSPEC_SCHEMES = ("hf://", "s3://")
METADATA_BLOCK = 64 << 10
METADATA_MAX = 256 << 10
DATA_BLOCK = 8 << 20
KEEP_BLOCKS = 4
TIMEOUT = 60.0
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def is_url(path: str) -> bool:
    return str(path).startswith(SCHEMES + FSSPEC_SCHEMES)


class RemoteError(OSError):
    pass


class RangeFile(io.RawIOBase):
    """A read-only, seekable file over HTTP range requests with read-ahead (see the
    module doc): a read that misses the ranges kept fetches at least ``block`` bytes
    from where it starts; a miss right where the last fetch ended doubles that, up to
    ``max_block`` (a sequential scan ends up in large requests; scattered reads, such as
    one field's chunks among the other fields' in a file written frame by frame, fetch
    what they need and little more). The last ``keep`` x ``max_block`` bytes fetched
    are kept."""

    def __init__(self, url: str, block: int = METADATA_BLOCK, max_block: int = METADATA_BLOCK,
                 keep: int = KEEP_BLOCKS):
        super().__init__()
        self.url = url
        self.block, self.max_block = int(block), max(int(block), int(max_block))
        self.budget = int(keep) * self.max_block
        self.pos = 0
        self.bytes_read = 0
        self.requests = 0
        self.ranges: OrderedDict[int, bytes] = OrderedDict()  # start -> bytes, LRU order
        self.kept = 0
        self.size = -1
        self.ahead = self.block
        self.seq_end = -1  # where the last fetch ended
        self._fetch(0, self.block)  # also learns the size (Content-Range: bytes 0-N/SIZE)

    def _fetch(self, start: int, length: int) -> bytes:
        import urllib.error  # only for URLs (16 ms of imports with ssl)
        import urllib.request

        end = start + length - 1
        if self.size >= 0:
            end = min(end, self.size - 1)
        req = urllib.request.Request(self.url, headers={"Range": f"bytes={start}-{end}",
                                                        "User-Agent": "wellforge"})
        self.requests += 1
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                if resp.status != 206:
                    raise RemoteError(f"the server does not answer range requests (HTTP "
                                      f"{resp.status} for bytes {start}-{end}); refused "
                                      "rather than downloaded")
                m = _RANGE.match(resp.headers.get("Content-Range", ""))
                if m is None or int(m.group(1)) != start:
                    raise RemoteError("the server's Content-Range does not match the range "
                                      "asked for")
                if self.size < 0:
                    if m.group(3) == "*":
                        raise RemoteError("the server does not tell the file's size")
                    self.size = int(m.group(3))
                    end = min(end, self.size - 1)
                data = resp.read(end - start + 1)
        except urllib.error.HTTPError as e:
            if e.code == 416 and self.size < 0:  # an empty file
                self.size = 0
                return b""
            raise RemoteError(f"HTTP {e.code} {e.reason}") from None
        except urllib.error.URLError as e:
            raise RemoteError(f"cannot reach {self.url}: {e.reason}") from None
        self.bytes_read += len(data)
        self.seq_end = start + len(data)
        self.ranges[start] = data
        self.kept += len(data)
        while self.kept > self.budget and len(self.ranges) > 1:
            _, old = self.ranges.popitem(last=False)
            self.kept -= len(old)
        return data

    def _at(self, pos: int, want: int) -> tuple[int, bytes]:
        """(start, bytes) of a kept or freshly fetched range holding ``pos``."""
        for start in reversed(self.ranges):
            data = self.ranges[start]
            if start <= pos < start + len(data):
                self.ranges.move_to_end(start)
                return start, data
        self.ahead = min(self.max_block, 2 * self.ahead) if pos == self.seq_end \
            else self.block
        return pos, self._fetch(pos, max(want, self.ahead))

    # -- io.RawIOBase --------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + int(offset))
        return self.pos

    def readinto(self, buf) -> int:
        mv = memoryview(buf).cast("B")
        n = min(len(mv), max(0, self.size - self.pos))
        done = 0
        while done < n:
            start, data = self._at(self.pos + done, n - done)
            off = self.pos + done - start
            take = min(n - done, len(data) - off)
            if take <= 0:
                break
            mv[done:done + take] = data[off:off + take]
            done += take
        self.pos += done
        return done


class CountingFile(io.RawIOBase):
    """A file object from fsspec, counting the bytes read through it."""

    def __init__(self, fh, size: int):
        super().__init__()
        self.fh, self.size, self.bytes_read = fh, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.fh.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.fh.seek(offset, whence)

    def readinto(self, buf) -> int:
        data = self.fh.read(len(buf))
        memoryview(buf).cast("B")[:len(data)] = data
        self.bytes_read += len(data)
        return len(data)

    def close(self) -> None:
        self.fh.close()
        super().close()


def _fsspec_open(url: str, block: int):
    try:
        import fsspec
    except ImportError:
        raise RemoteError(f"{url.split('://')[0]}:// URLs need fsspec: pip install "
                          "'wellforge[remote]' (or read the file over https://)") from None
    try:
        fs, path = fsspec.core.url_to_fs(url)
        size = int(fs.size(path))
        fh = fs.open(path, "rb", block_size=block, cache_type="readahead")
    except ImportError as e:
        raise RemoteError(f"{url.split('://')[0]}:// needs another package: {e}") from None
    except Exception as e:  # noqa: BLE001 - fsspec backends raise their own errors
        raise RemoteError(f"cannot open {url}: {type(e).__name__}: {e}") from None
    return CountingFile(fh, size)


def open_url(url: str, level: int):
    """The file object for ``url``: read-ahead up to ``METADATA_MAX`` for the metadata
    levels (0-2), up to ``DATA_BLOCK`` for the levels that stream the data."""
    top = METADATA_MAX if level <= 2 else DATA_BLOCK
    if url.startswith(FSSPEC_SCHEMES):
        return _fsspec_open(url, top)
    return RangeFile(url, block=METADATA_BLOCK, max_block=top)


def preflight(fh) -> str | None:
    """Why the remote file cannot be HDF5 (None when it may be): the signature at 0 or at
    512 x 2^k, before any HDF5 call."""
    if fh.size == 0:
        return "empty file (0 bytes)"
    for off in [0] + [512 << k for k in range(24) if (512 << k) < fh.size]:
        fh.seek(off)
        if fh.read(8) == HDF5_SIGNATURE:
            fh.seek(0)
            return None
    return "not an HDF5 file (no HDF5 signature)"
