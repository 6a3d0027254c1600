"""Reading file metadata into tree nodes, and putting it back on restore."""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat
from functools import lru_cache

from drkit.repository.tree import Node, NodeType

_TYPES = {
    stat.S_IFREG: NodeType.FILE,
    stat.S_IFDIR: NodeType.DIR,
    stat.S_IFLNK: NodeType.SYMLINK,
    stat.S_IFIFO: NodeType.FIFO,
    stat.S_IFCHR: NodeType.CHARDEV,
    stat.S_IFBLK: NodeType.BLOCKDEV,
    stat.S_IFSOCK: NodeType.SOCKET,
}
_XATTR_UNSUPPORTED = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENODATA, errno.EPERM, errno.EACCES)


@lru_cache(maxsize=1024)
def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


@lru_cache(maxsize=1024)
def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


def node_type(mode: int) -> NodeType:
    """The node type of an ``st_mode`` (a kind Linux does not name is read as a file)."""
    return _TYPES.get(stat.S_IFMT(mode), NodeType.FILE)


def node_from_stat(name: str, st: os.stat_result, path: str, target: str | None = None) -> Node:
    """A node with everything ``lstat`` and the filesystem tell about ``path``.

    The access time is left out on purpose: reading a directory changes it,
    so recording it would make every backup write new trees. ``target`` is a
    symlink's target when the caller has read it already.
    """
    ntype = node_type(st.st_mode)
    node = Node(
        name,
        ntype,
        mode=stat.S_IMODE(st.st_mode),
        uid=st.st_uid,
        gid=st.st_gid,
        user=user_name(st.st_uid),
        group=group_name(st.st_gid),
        mtime_ns=st.st_mtime_ns,
        ctime_ns=st.st_ctime_ns,
        inode=st.st_ino,
        device=st.st_dev,
        links=st.st_nlink,
    )
    if ntype is NodeType.FILE:
        node.size = st.st_size
    elif ntype is NodeType.SYMLINK:
        node.target = os.readlink(path) if target is None else target
    elif ntype in (NodeType.CHARDEV, NodeType.BLOCKDEV):
        node.rdev = st.st_rdev
    if ntype is not NodeType.SYMLINK:
        node.xattrs = read_xattrs(path)
    return node


def read_xattrs(path: str) -> dict[str, bytes]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _XATTR_UNSUPPORTED:
            return {}
        raise
    values = {}
    for attr in names:
        try:
            values[attr] = os.getxattr(path, attr, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in _XATTR_UNSUPPORTED:
                raise
    return values


def apply_metadata(path: str, node: Node, *, as_root: bool) -> list[str]:
    """Set owner, mode, xattrs and times on a restored entry; return warnings."""
    warnings: list[str] = []
    is_link = node.type is NodeType.SYMLINK
    if as_root:
        try:
            os.chown(path, node.uid, node.gid, follow_symlinks=False)
        except OSError as exc:
            warnings.append(f"{path}: cannot set owner: {exc.strerror}")
    if not is_link:
        os.chmod(path, node.mode)
        for attr, value in node.xattrs.items():
            try:
                os.setxattr(path, attr, value, follow_symlinks=False)
            except OSError as exc:
                warnings.append(f"{path}: cannot set xattr {attr}: {exc.strerror}")
    os.utime(path, ns=(node.atime_ns or node.mtime_ns, node.mtime_ns), follow_symlinks=False)
    return warnings


def apply_metadata_fd(fd: int, path: str, node: Node, as_root: bool) -> list[str]:
    """:func:`apply_metadata` for a regular file open at ``fd`` (``path`` for messages)."""
    warnings: list[str] = []
    if as_root:
        try:
            os.fchown(fd, node.uid, node.gid)
        except OSError as exc:
            warnings.append(f"{path}: cannot set owner: {exc.strerror}")
    os.fchmod(fd, node.mode)
    for attr, value in node.xattrs.items():
        try:
            os.setxattr(fd, attr, value)
        except OSError as exc:
            warnings.append(f"{path}: cannot set xattr {attr}: {exc.strerror}")
    os.utime(fd, ns=(node.atime_ns or node.mtime_ns, node.mtime_ns))
    return warnings
