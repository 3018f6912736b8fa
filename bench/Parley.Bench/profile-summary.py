#!/usr/bin/env python3
"""Sums a `perf record -g` profile of the server into categories a person can act on.

Usage: perf script -i perf.data -F comm,tid,ip,sym,dso | profile-summary.py
Each sample is put in one category by its leaf frame (and, for kernel leaves, by what the
kernel was doing for it), separately for the group-commit writer thread and all other threads.
"""
import re
import sys
from collections import Counter

def classify(frames):
    leaf_sym, leaf_dso = frames[0]
    stack = " ".join(s for s, _ in frames)
    if "kernel" in leaf_dso:
        if re.search(r"tcp_|inet_|sock_|skb|net_rx|__sys_sendto|__sys_recvfrom|ip_output|__napi|__dev_queue", stack):
            return "kernel: TCP send/receive"
        if re.search(r"pread|pwrite|ext4|filemap|vfs_read|vfs_write|fsync|jbd2", stack):
            return "kernel: file reads/writes (SQLite)"
        if re.search(r"page_fault|do_anonymous|clear_page", stack):
            return "kernel: page faults (new memory)"
        if re.search(r"futex|schedule|sched_yield|epoll", stack):
            return "kernel: thread wake-ups, epoll, yield"
        return "kernel: other"
    if "sqlite" in leaf_dso:
        return "SQLite engine"
    if "libcoreclr" in leaf_dso:
        return "runtime native (GC, allocation, stubs)"
    if "libclrjit" in leaf_dso:
        return "JIT compiler"
    if "libc" in leaf_dso:
        if re.search(r"mem(set|move|cpy)", leaf_sym):
            return "libc memset/memcpy"
        return "libc other (syscall wrappers, locks)"
    s = leaf_sym
    if "Google.Protobuf" in s or "Parley.Protocol" in s:
        return "managed: protobuf (parse, size, write)"
    if "WebSockets" in s:
        return "managed: WebSocket framing"
    if "Kestrel" in s or "AspNetCore" in s or "Pipelines" in s:
        return "managed: Kestrel, pipes"
    if "Microsoft.Data.Sqlite" in s or "SQLitePCL" in s:
        return "managed: Microsoft.Data.Sqlite wrapper"
    if "Parley.Server" in s:
        return "managed: Parley.Server code"
    if re.search(r"System\.Threading|CompilerServices|ExecutionContext|Task|Semaphore|Cancellation", s):
        return "managed: tasks, async, locks"
    if "System.Net.Sockets" in s or "SafeHandle" in s:
        return "managed: sockets, safe handles"
    if "Collections" in s:
        return "managed: collections"
    if "CastHelpers" in s or "stub" in s or "Buffer" in s or "SpanHelpers" in s:
        return "managed: casts, copies, stubs"
    return "managed: other"

def samples(lines):
    head, frames = None, []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if head is not None and frames:
                yield head, frames
            head, frames = None, []
            continue
        if not line.startswith((" ", "\t")):
            head = line
            continue
        m = re.match(r"\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$", line)
        if m:
            frames.append((m.group(1), m.group(2)))
    if head is not None and frames:
        yield head, frames

writer, others = Counter(), Counter()
for head, frames in samples(sys.stdin):
    (writer if ("Long Runni" in head or "parley-group" in head) else others)[classify(frames)] += 1
total = sum(writer.values()) + sum(others.values())
if total == 0:
    sys.exit("no samples")
for name, counter in (("group-commit writer thread", writer), ("all other threads", others)):
    n = sum(counter.values())
    print(f"{name}: {100 * n / total:.1f}% of server samples")
    for category, count in counter.most_common():
        if 100 * count / total >= 0.5:
            print(f"  {100 * count / total:5.1f}%  {category}")
