"""Unit tests of the jupyter_edge.deploy.host_state module: it must say "as wanted" only when the
group, user, file or link task it lets a role skip would change nothing, and "different" otherwise."""

import grp
import hashlib
import os
import pwd
import shutil

import pytest
from ansible_collections.jupyter_edge.deploy.plugins.modules import host_state
from module_run import run_main

ME = pwd.getpwuid(os.getuid())
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def run(**args):
    return run_main(host_state, args)


def directory(path, mode="0750", **over):
    return {"path": str(path), "state": "directory", "owner": ME.pw_name, "group": MY_GROUP, "mode": mode} | over


def test_directory_as_wanted_and_each_difference(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    d.chmod(0o750)
    assert run(paths=[directory(d)])["changed"] is False
    for want, expected in [
        (directory(d), True),
        (directory(d, mode="0755"), False),
        (directory(d, owner="no-such-user-here"), False),
        (directory(d, group="no-such-group-here"), False),
        (directory(tmp_path / "missing"), False),
    ]:
        assert run(paths=[want])["paths"] == {want["path"]: expected}, want


def test_setgid_mode_is_compared(tmp_path):
    d = tmp_path / "sockets"
    d.mkdir()
    d.chmod(0o2750)
    assert run(paths=[directory(d, mode="2750")])["paths"][str(d)] is True
    assert run(paths=[directory(d, mode="0750")])["paths"][str(d)] is False


def test_a_link_is_not_followed_where_a_directory_is_wanted(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    real.chmod(0o750)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert run(paths=[directory(link)])["paths"][str(link)] is False


def test_file_content_is_compared_by_sha1(tmp_path):
    f = tmp_path / "tester"
    f.write_bytes(b"#!/bin/sh\nexit 0\n")
    f.chmod(0o755)
    digest = hashlib.sha1(f.read_bytes()).hexdigest()  # noqa: S324
    want = {"path": str(f), "state": "file", "owner": ME.pw_name, "group": MY_GROUP, "mode": "0755"}
    assert run(paths=[want | {"checksum": digest}])["paths"][str(f)] is True
    assert run(paths=[want | {"checksum": digest.upper()}])["paths"][str(f)] is True
    assert run(paths=[want | {"checksum": "0" * 40}])["paths"][str(f)] is False
    assert run(paths=[want])["paths"][str(f)] is True  # no checksum: content not compared
    assert run(paths=[want | {"state": "directory"}])["paths"][str(f)] is False


def test_links_and_absent_paths(tmp_path):
    target = tmp_path / "site.conf"
    target.write_text("server {}\n")
    link = tmp_path / "enabled.conf"
    link.symlink_to("../sites-available/site.conf")
    as_written = {"path": str(link), "state": "link", "src": "../sites-available/site.conf"}
    assert run(paths=[as_written])["paths"][str(link)] is True
    assert run(paths=[as_written | {"src": str(target)}])["paths"][str(link)] is False
    assert run(paths=[as_written | {"owner": ME.pw_name, "group": MY_GROUP}])["paths"][str(link)] is True
    assert run(paths=[as_written | {"owner": "no-such-user-here"}])["paths"][str(link)] is False
    assert run(paths=[{"path": str(target), "state": "link", "src": "x"}])["paths"][str(target)] is False
    assert run(paths=[{"path": str(tmp_path / "gone"), "state": "absent"}])["paths"][str(tmp_path / "gone")] is True
    assert run(paths=[{"path": str(link), "state": "absent"}])["paths"][str(link)] is False


def test_group_and_user():
    me = {"name": ME.pw_name, "group": MY_GROUP, "home": ME.pw_dir, "shell": ME.pw_shell}
    result = run(group=MY_GROUP, user=me)
    assert (result["group"], result["user"]) == (True, True)
    assert run(group="no-such-group-here")["group"] is False
    assert run(user=me | {"shell": "/usr/sbin/nologin-not"})["user"] is False
    assert run(user=me | {"home": "/elsewhere"})["user"] is False
    assert run(user=me | {"name": "no-such-user-here"})["user"] is False
    # Nothing asked: nothing to do.
    assert run() == {"changed": False, "group": True, "user": True, "paths": {}, "missing_packages": []}


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="needs dpkg")
def test_packages_from_dpkg():
    result = run(packages=["dpkg", "no-such-package-here"])
    assert result["missing_packages"] == ["no-such-package-here"]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"path": "/x", "state": "directory", "owner": "root", "group": "root"}, "needs mode"),
        ({"path": "/x", "state": "link"}, "needs src"),
        ({"path": "/x", "state": "file", "owner": "root", "group": "root", "mode": "rw-r--r--"}, "octal"),
    ],
)
def test_incomplete_items_fail_with_the_path(item, message):
    result = run(paths=[item])
    assert result["failed"] and "/x" in result["msg"] and message in result["msg"]


def test_check_mode_reads_the_same(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    d.chmod(0o750)
    assert run_main(host_state, {"paths": [directory(d)]}, check_mode=True)["paths"][str(d)] is True
