"""Trees: one directory listing per blob, with full metadata.

A tree blob is UTF-8 JSON ``{"nodes": [node, ...]}`` with nodes sorted by
name; fields left at their default are omitted, so equal directories give
equal bytes and therefore the same blob id. Names that are not valid UTF-8
travel as surrogate escapes (``os.fsdecode``), which JSON carries as
``\\udcXX`` and gives back unchanged.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class NodeType(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    FIFO = "fifo"
    CHARDEV = "chardev"
    BLOCKDEV = "blockdev"
    SOCKET = "socket"


@dataclass(slots=True)
class Node:
    """One directory entry as it was at backup time."""

    name: str
    type: NodeType
    mode: int = 0
    uid: int = 0
    gid: int = 0
    user: str = ""
    group: str = ""
    mtime_ns: int = 0
    atime_ns: int = 0
    ctime_ns: int = 0
    inode: int = 0
    device: int = 0
    links: int = 1
    size: int = 0
    content: list[bytes] = field(default_factory=list)
    subtree: bytes | None = None
    target: str = ""
    rdev: int = 0
    xattrs: dict[str, bytes] = field(default_factory=dict)
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        # written out rather than looped over (this runs once per file of every
        # backup); the key order is the format's, so equal nodes give equal bytes
        doc: dict[str, Any] = {
            "name": self.name,
            "type": self.type.value,
            "mode": self.mode,
            "uid": self.uid,
            "gid": self.gid,
            "mtime_ns": self.mtime_ns,
        }
        if self.user:
            doc["user"] = self.user
        if self.group:
            doc["group"] = self.group
        if self.atime_ns:
            doc["atime_ns"] = self.atime_ns
        if self.ctime_ns:
            doc["ctime_ns"] = self.ctime_ns
        if self.inode:
            doc["inode"] = self.inode
        if self.device:
            doc["device"] = self.device
        if self.size:
            doc["size"] = self.size
        if self.target:
            doc["target"] = self.target
        if self.rdev:
            doc["rdev"] = self.rdev
        if self.error:
            doc["error"] = self.error
        if self.links != 1:
            doc["links"] = self.links
        if self.content:
            doc["content"] = [c.hex() for c in self.content]
        if self.subtree is not None:
            doc["subtree"] = self.subtree.hex()
        if self.xattrs:
            doc["xattrs"] = {k: base64.b64encode(v).decode() for k, v in self.xattrs.items()}
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Node:
        node = cls(doc["name"], NodeType(doc["type"]))
        for key in (
            "mode",
            "uid",
            "gid",
            "user",
            "group",
            "mtime_ns",
            "atime_ns",
            "ctime_ns",
            "inode",
            "device",
            "links",
            "size",
            "target",
            "rdev",
            "error",
        ):
            if key in doc:
                setattr(node, key, doc[key])
        # a tree repeats the same few owner names: one string each, not one per file
        node.user, node.group = sys.intern(node.user), sys.intern(node.group)
        if "content" in doc:
            node.content = [bytes.fromhex(c) for c in doc["content"]]
        if "subtree" in doc:
            node.subtree = bytes.fromhex(doc["subtree"])
        if "xattrs" in doc:
            node.xattrs = {k: base64.b64decode(v) for k, v in doc["xattrs"].items()}
        return node


def encode_tree(nodes: list[Node]) -> bytes:
    ordered = sorted(nodes, key=_name)
    return _ENCODER.encode({"nodes": [n.to_json() for n in ordered]}).encode()


def _name(node: Node) -> str:
    return node.name


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def decode_tree(data: bytes) -> list[Node]:
    doc = json.loads(data)
    return [Node.from_json(n) for n in doc["nodes"]]
