"""``wellforge validate URL`` over HTTP range requests, against a loopback server this test
starts (``http.server`` with Range support, counting the bytes it sends): levels 0-2
fetch metadata only (a few percent of a data file), level 3+ stream everything, the
findings are those of the local file, and the safe-open rules hold."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import h5py
import numpy as np
import pytest
from wellforge.schema.synthetic import write_file

from wellforge.cli import main


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files with ``Range: bytes=a-b`` (206), or whole (200) when ``ranges`` is off;
    counts the body bytes sent."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return
        size = os.path.getsize(path)
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if m is None or not self.server.ranges:
            start, end, code = 0, size - 1, 200
        else:
            start = int(m.group(1))
            end = min(size - 1, int(m.group(2)) if m.group(2) else size - 1)
            if start >= size:
                self.send_error(416)
                return
            code = 206
        self.send_response(code)
        self.send_header("Content-Length", str(end - start + 1))
        if code == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read(end - start + 1)
        self.server.sent += len(data)
        self.server.requests += 1
        self.server.paths.add(self.path)
        self.wfile.write(data)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()

    def handler(*a, **k):
        return RangeHandler(*a, directory=str(root), **k)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.sent = srv.requests = 0
    srv.paths = set()
    srv.ranges = True
    srv.root = root
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def validate(capsys, *args):
    rc = main(["validate", *args, "--format", "json", "--no-cache"])
    return rc, json.loads(capsys.readouterr().out)


def findings(doc):
    return sorted((f["code"], f["object"], json.dumps(f["region"])) for f in doc["findings"])


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    """A 17 MB file (2 trajectories x 16 frames of 256 x 128, 7 components) with a NaN."""
    p = str(tmp_path_factory.mktemp("remote") / "run.hdf5")
    write_file(p, n_traj=2, n_time=16, nx=256, ny=128)
    with h5py.File(p, "r+") as f:
        f["t0_fields/c"][1, 3, 5, 7] = np.nan
    return p


def test_metadata_levels_read_a_few_percent_and_data_levels_stream(server, data_file,
                                                                    capsys):
    shutil.copy(data_file, server.root / "run.hdf5")
    url = f"{server.url}/run.hdf5"
    size = os.path.getsize(data_file)
    sent = {}
    for level in (0, 1, 2, 3, 5):
        server.sent = 0
        rc, remote = validate(capsys, url, "--level", str(level))
        rc_local, local = validate(capsys, data_file, "--level", str(level))
        assert (rc, findings(remote)) == (rc_local, findings(local)), level
        sent[level] = server.sent
        note = [n["note"] for n in remote.get("notes", []) if "network" in n["note"]]
        assert note == [f"read {server.sent} of the file's {size} bytes over the network"]
    assert all(sent[lv] <= 0.03 * size for lv in (0, 1, 2)), (sent, size)
    assert all(size <= sent[lv] <= 1.5 * size for lv in (3, 5)), (sent, size)
    assert rc == 1 and "WF300" in {f["code"] for f in remote["findings"]}


def test_a_server_without_ranges_is_refused_not_downloaded(server, data_file, capsys):
    shutil.copy(data_file, server.root / "run.hdf5")
    server.ranges = False
    rc, doc = validate(capsys, f"{server.url}/run.hdf5", "--level", "0")
    (f,) = doc["findings"]
    assert rc == 3 and f["code"] == "WF001" and "range requests" in f["message"]


def test_missing_not_hdf5_and_unreachable_urls_are_refused(server, tmp_path, capsys):
    (server.root / "notes.hdf5").write_bytes(b"not an hdf5 file" * 100)
    for url, says in ((f"{server.url}/nope.hdf5", "HTTP 404"),
                      (f"{server.url}/notes.hdf5", "no HDF5 signature"),
                      ("http://127.0.0.1:9/x.hdf5", "cannot reach")):
        rc, doc = validate(capsys, url)
        assert rc == 3 and says in doc["findings"][0]["message"], (url, doc)
    assert main(["validate", f"{server.url}/dir/"]) == 2
    assert "one .h5/.hdf5 file" in capsys.readouterr().err


def test_external_links_are_not_followed_remotely(server, tmp_path, capsys):
    """An external link and external raw storage pointing at a file the server also
    serves: the walk records them, nothing outside the file is fetched."""
    secret = server.root / "secret.hdf5"
    with h5py.File(secret, "w") as f:
        f["x"] = np.arange(1_000_000, dtype=np.float64)
    p = server.root / "evil.hdf5"
    write_file(str(p))
    with h5py.File(p, "r+") as f:
        f["leak"] = h5py.ExternalLink("secret.hdf5", "/x")
        f.create_dataset("raw", shape=(1000,), dtype="f8", external=[("secret.hdf5", 0, 8000)])
    rc, doc = validate(capsys, f"{server.url}/evil.hdf5", "--level", "5")
    assert rc == 3 and {"WF002", "WF003"} <= {f["code"] for f in doc["findings"]}
    assert server.paths == {"/evil.hdf5"}  # nothing of the secret file was asked for


def test_fsspec_urls_read_through_fsspec(data_file, capsys, monkeypatch):
    """hf:// and s3:// go through fsspec; here its in-memory file system stands in for
    them (the same code path: url_to_fs, size, a read-ahead file, bytes counted)."""
    import sys

    fsspec = pytest.importorskip("fsspec")
    from wellforge.validate import remote

    fs = fsspec.filesystem("memory")
    with open(data_file, "rb") as src, fs.open("/wf/run.hdf5", "wb") as dst:
        dst.write(src.read())
    monkeypatch.setattr(remote, "FSSPEC_SCHEMES", (*remote.FSSPEC_SCHEMES, "memory://"))
    rc, doc = validate(capsys, "memory://wf/run.hdf5", "--level", "2")
    rc_local, local = validate(capsys, data_file, "--level", "2")
    assert (rc, findings(doc)) == (rc_local, findings(local))
    (note,) = [n["note"] for n in doc["notes"] if "network" in n["note"]]
    sent = int(note.split()[1])
    assert 0 < sent <= 0.03 * os.path.getsize(data_file)
    monkeypatch.setitem(sys.modules, "fsspec", None)  # not installed
    rc, doc = validate(capsys, "memory://wf/run.hdf5", "--level", "0")
    assert rc == 3 and "need fsspec" in doc["findings"][0]["message"]
