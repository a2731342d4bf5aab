#!/usr/bin/env python3
"""Kernel-TCP peers for synack's interop tests, run inside a test's network namespace.

Each mode prints one JSON line with what it saw (servers print {"ready": true} first,
once listening). Everything is bounded by socket timeouts, so a wedged peer fails
instead of hanging the suite.

  echo-halfclose HOST PORT N        send N bytes, shutdown(SHUT_WR), read until EOF
  sink PORT [--reply] [--close-delay S] [--tos]
                                    accept one connection, read until EOF; with --reply
                                    answer "LEN SHA256\\n" after the EOF; wait S seconds; close;
                                    with --tos (IPv4) also report the TOS byte Linux kept for
                                    the connection (IP_RECVTOS, read back with IP_PKTOPTIONS)
  close-first HOST PORT             send a line and close at once (kernel closes first)
  connect HOST PORT                 try to connect; {"result": "connected"|"refused"|...}
  many HOST PORT COUNT N            COUNT concurrent echo clients, N bytes each
  echo-server PORT                  asyncio echo server (half-close aware), until killed
  slow-reader HOST PORT N RCVBUF    GET /bytes/N from an HTTP server with a tiny receive
                                    buffer, reading nothing for 1.5 s, then slowly
  send HOST PORT N [--fin on-last|alone]
                                    send N bytes as fast as possible, half-close, wait for
                                    the peer's EOF; reports the seconds from connect to EOF.
                                    --fin on-last: a send buffer that takes all N bytes at
                                    once, so the FIN joins the last, still unsent, segment;
                                    --fin alone: half-close only once every byte has left
                                    (SIOCOUTQNSD is 0), so the FIN is a segment of its own;
                                    default: Linux's own buffer sizing decides;
                                    --sample PATH: TCP_INFO every 5 ms into PATH (TSV);
                                    --go PATH: start only once PATH exists (the caller
                                    creates it: a start signal that needs no new process)
  tfo-client HOST PORT COUNT        COUNT connections, each sendto(MSG_FASTOPEN) of a line,
                                    then read the reply to EOF (needs tcp_fastopen & 1)
  tfo-server PORT COUNT             listen with TCP_FASTOPEN, answer COUNT connections with
                                    "reply " + their line; reports whether each SYN's data
                                    was taken (TCP_INFO's TCPI_OPT_SYN_DATA)
  urg-client HOST PORT              send "before", "X" with MSG_OOB, "after\\n", half-close,
                                    read the reply to EOF
  urg-server PORT [--inline]        accept one connection (SO_OOBINLINE with --inline), read
                                    to EOF, taking urgent data with recv(MSG_OOB) when
                                    select() reports it; reports the data and the OOB bytes
"""
import fcntl
import select
import struct
import asyncio
import hashlib
import json
import os
import socket
import sys
import threading
import time

TIMEOUT = 60


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def payload(n, seed=1):
    # Deterministic, incompressible-looking bytes.
    blocks = []
    h = hashlib.sha256(str(seed).encode()).digest()
    total = 0
    while total < n:
        h = hashlib.sha256(h).digest()
        blocks.append(h)
        total += len(h)
    return b"".join(blocks)[:n]


def read_all(s):
    h = hashlib.sha256()
    n = 0
    while True:
        d = s.recv(65536)
        if not d:
            return n, h.hexdigest()
        h.update(d)
        n += len(d)


def echo_halfclose(host, port, n):
    data = payload(n)
    s = socket.create_connection((host, port), timeout=TIMEOUT)

    # Send from a thread while this one reads: an echo of more than the buffers along the
    # path would otherwise deadlock (both sides blocked writing).
    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    got, sha = read_all(s)
    sender.join()
    s.close()
    out({"sent": n, "sentSha": hashlib.sha256(data).hexdigest(), "received": got, "receivedSha": sha})


def listening_socket(bind, port):
    # "::" listens on both families (IPv4 arrives as ::ffff:a.b.c.d), as a dual-stack server does.
    ls = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if ":" in bind:
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind((bind, port))
    return ls


IP_PKTOPTIONS = 9  # linux/in.h; Python has no name for it


def received_tos(s):
    """The TOS byte Linux kept for a stream socket with IP_RECVTOS (IP_PKTOPTIONS' IP_TOS message)."""
    raw = s.getsockopt(socket.IPPROTO_IP, IP_PKTOPTIONS, 64)
    off = 0
    while off + 16 <= len(raw):  # struct cmsghdr: size_t len, int level, int type, then data
        length, level, kind = struct.unpack_from("QII", raw, off)
        if level == socket.IPPROTO_IP and kind == socket.IP_TOS:
            return raw[off + 16]
        off += (length + 7) & ~7
    return None


def sink(port, reply, close_delay=0.0, bind="0.0.0.0", tos=False):
    ls = listening_socket(bind, port)
    if tos:
        ls.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)  # the accepted socket inherits it
    ls.listen(1)
    ls.settimeout(TIMEOUT)
    out({"ready": True})
    s, _ = ls.accept()
    s.settimeout(TIMEOUT)
    n, sha = read_all(s)
    if reply:
        s.sendall(("%d %s\n" % (n, sha)).encode())
    if close_delay > 0:
        # Let the kernel's delayed ACK of the peer's FIN leave on its own before our FIN.
        time.sleep(close_delay)
    result = {"received": n, "sha": sha}
    if tos:
        result["tos"] = received_tos(s)
    s.close()
    out(result)


def close_first(host, port):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.sendall(b"bye\n")
    s.close()
    out({"closed": True})


def connect(host, port):
    try:
        s = socket.create_connection((host, port), timeout=10)
        s.close()
        out({"result": "connected"})
    except ConnectionRefusedError:
        out({"result": "refused"})
    except socket.timeout:
        out({"result": "timeout"})
    except OSError as e:
        out({"result": "error", "errno": e.errno, "message": str(e)})


async def one_client(host, port, data):
    r, w = await asyncio.open_connection(host, port)
    w.write(data)
    await w.drain()
    w.write_eof()
    got = await r.read()
    w.close()
    return got == data


async def many(host, port, count, n):
    data = payload(n)
    start = time.time()
    results = await asyncio.wait_for(
        asyncio.gather(*(one_client(host, port, data) for _ in range(count)), return_exceptions=True), TIMEOUT
    )
    ok = sum(1 for r in results if r is True)
    errors = [repr(r) for r in results if r is not True][:5]
    out({"ok": ok, "count": count, "errors": errors, "seconds": time.time() - start})


async def echo_server(port, bind="0.0.0.0"):
    async def handle(r, w):
        try:
            while True:
                d = await r.read(65536)
                if not d:
                    break
                w.write(d)
                await w.drain()
            w.write_eof()
            await w.drain()
        finally:
            w.close()

    server = await asyncio.start_server(handle, sock=listening_socket(bind, port), backlog=1024)
    out({"ready": True})
    async with server:
        await asyncio.sleep(TIMEOUT * 5)


def slow_reader(host, port, n, rcvbuf):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(TIMEOUT)
    s.connect((host, port))
    s.sendall(("GET /bytes/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % n).encode())
    time.sleep(1.5)  # read nothing: the window closes and the sender must probe
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(1)
        if not d:
            break
        buf += d
    h = hashlib.sha256()
    got = 0
    pauses = 0
    while got < n:
        d = s.recv(4096)
        if not d:
            break
        h.update(d)
        got += len(d)
        if pauses < 20:
            pauses += 1
            time.sleep(0.05)
    s.close()
    out({"received": got, "sha": h.hexdigest()})


SIOCOUTQNSD = 0x894B  # bytes queued but not yet sent (linux/sockios.h)


def unsent_bytes(s):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), SIOCOUTQNSD, b"\0\0\0\0"))[0]


# Columns of a TCP_INFO sample (send --sample), as test/interop/sender-sample.ts writes synack's.
SAMPLE_COLUMNS = "ms\tcwnd\tssthresh\tca_state\tunacked\ttotal_retrans\tbytes_acked\trtt_ms\tsnd_wnd"


def sample_tcp_info(s, start, rows, stop):
    """Every 5 ms until `stop` is set: a row of the sender's TCP_INFO (struct tcp_info offsets)."""
    while not stop.is_set():
        b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
        u32 = lambda off: struct.unpack_from("I", b, off)[0]
        snd_wnd = u32(228) if len(b) >= 232 else -1
        rows.append((round((time.time() - start) * 1000, 1), u32(80), u32(76), b[1], u32(24), u32(100),
                     struct.unpack_from("Q", b, 120)[0], u32(68) // 1000, snd_wnd))
        stop.wait(0.005)


def wait_for_file(path):
    # Long enough for the transfers measured before this one (measure.ts starts its peers ahead).
    deadline = time.time() + 10 * TIMEOUT
    while not os.path.exists(path):
        if time.time() > deadline:
            raise TimeoutError("no start signal: %s" % path)
        time.sleep(0.002)


def send(host, port, n, fin=None, cc=None, sample=None, go=None):
    block = payload(1 << 20)
    if go is not None:
        wait_for_file(go)
    start = time.time()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT * 5)
    if cc is not None:
        # Per socket: a namespace's default may only be an allowed one (reno, bbr here), but
        # root may pick any available algorithm for its own socket (tcp_set_congestion_control).
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    if fin == "on-last":
        # Set before connect: the whole transfer fits, sendall returns with most of it unsent.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, max(4 * n, 1 << 20))
    s.connect((host, port))
    rows, stop = [], threading.Event()
    sampler = threading.Thread(target=sample_tcp_info, args=(s, start, rows, stop)) if sample else None
    if sampler:
        sampler.start()
    left = n
    while left > 0:
        k = min(left, len(block))
        s.sendall(block[:k] if k < len(block) else block)
        left -= k
    if fin == "alone":
        deadline = time.time() + TIMEOUT
        while unsent_bytes(s) > 0 and time.time() < deadline:
            time.sleep(0.002)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    seconds = time.time() - start
    if sampler:
        stop.set()
        sampler.join()
        with open(sample, "w") as f:
            f.write(SAMPLE_COLUMNS + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows))
    s.close()
    out({"sent": n, "seconds": seconds})


TCPI_OPT_SYN_DATA = 32


def tfo_client(host, port, count):
    replies = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Blocking: a timeout would make the socket non-blocking and sendto answer
        # EINPROGRESS; the harness bounds the whole run instead.
        s.sendto(b"hello %d\n" % i, socket.MSG_FASTOPEN, (host, port))
        s.settimeout(TIMEOUT)
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        replies.append(data.decode())
    out({"replies": replies})


def tfo_server(port, count):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    srv.listen(16)
    srv.settimeout(TIMEOUT)
    out({"ready": True})
    requests = []
    syn_data = []
    for _ in range(count):
        c, _addr = srv.accept()
        c.settimeout(TIMEOUT)
        info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        syn_data.append((info[5] & TCPI_OPT_SYN_DATA) != 0)
        line = b""
        while not line.endswith(b"\n"):
            d = c.recv(65536)
            if not d:
                break
            line += d
        c.sendall(b"reply " + line)
        c.close()
        requests.append(line.decode())
    out({"requests": requests, "synData": syn_data})


def urg_client(host, port):
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.sendall(b"before")
    s.send(b"X", socket.MSG_OOB)
    s.sendall(b"after\n")
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        reply += d
    s.close()
    out({"reply": reply.decode()})


def urg_server(port, inline):
    srv = listening_socket("0.0.0.0", port)
    srv.listen(1)
    srv.settimeout(TIMEOUT)
    out({"ready": True})
    c, _addr = srv.accept()
    if inline:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
    c.setblocking(False)
    data = b""
    oob = b""
    marks = 0
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        readable, _, exceptional = select.select([c], [], [c], 1.0)
        if exceptional and not inline:
            try:
                oob += c.recv(1, socket.MSG_OOB)
            except OSError:
                pass  # EINVAL once read, EAGAIN before the byte: select says again
        if readable:
            if atmark(c):
                marks += 1
            try:
                d = c.recv(65536)
            except BlockingIOError:
                continue
            if not d:
                break
            data += d
    c.close()
    out({"data": data.decode(), "oob": oob.decode(), "atMark": marks > 0})


SIOCATMARK = 0x8905


def atmark(c):
    return struct.unpack("i", fcntl.ioctl(c.fileno(), SIOCATMARK, b"\0\0\0\0"))[0] != 0


def main(argv):
    mode = argv[0]
    if mode == "echo-halfclose":
        echo_halfclose(argv[1], int(argv[2]), int(argv[3]))
    elif mode == "sink":
        delay = float(argv[argv.index("--close-delay") + 1]) if "--close-delay" in argv else 0.0
        bind = argv[argv.index("--bind") + 1] if "--bind" in argv else "0.0.0.0"
        sink(int(argv[1]), "--reply" in argv, delay, bind, "--tos" in argv)
    elif mode == "close-first":
        close_first(argv[1], int(argv[2]))
    elif mode == "connect":
        connect(argv[1], int(argv[2]))
    elif mode == "many":
        asyncio.run(many(argv[1], int(argv[2]), int(argv[3]), int(argv[4])))
    elif mode == "echo-server":
        asyncio.run(echo_server(int(argv[1]), argv[argv.index("--bind") + 1] if "--bind" in argv else "0.0.0.0"))
    elif mode == "send":
        send(argv[1], int(argv[2]), int(argv[3]), argv[argv.index("--fin") + 1] if "--fin" in argv else None,
             argv[argv.index("--cc") + 1] if "--cc" in argv else None,
             argv[argv.index("--sample") + 1] if "--sample" in argv else None,
             argv[argv.index("--go") + 1] if "--go" in argv else None)
    elif mode == "tfo-client":
        tfo_client(argv[1], int(argv[2]), int(argv[3]))
    elif mode == "tfo-server":
        tfo_server(int(argv[1]), int(argv[2]))
    elif mode == "urg-client":
        urg_client(argv[1], int(argv[2]))
    elif mode == "urg-server":
        urg_server(int(argv[1]), "--inline" in argv)
    elif mode == "slow-reader":
        slow_reader(argv[1], int(argv[2]), int(argv[3]), int(argv[4]))
    else:
        sys.stderr.write("unknown mode %s\n" % mode)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
