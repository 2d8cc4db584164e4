#!/usr/bin/env python3
"""Slow-reader storm (spec §16.14): clients that pipeline requests and never read must not keep a fresh client out.

  scripts/storm-readers.py --port PORT [--path /v2alpha1/derivedKeys/jwks.json] [--connections 5]
                           [--requests 20000] [--within 2] [--limit 15] [--label public]

1. Opens --connections sockets (= serve.http.max_connections) with a small SO_RCVBUF and MSS and pipelines up to
   --requests `GET --path` on each with non-blocking sends (bounded in time). They never read.
2. Waits until the server's output to every storm socket has stalled: no growth of our unread bytes and no change
   of the server's send queue (/proc/net/tcp) for --quiet seconds. The clock starts at that stall.
3. A fresh client asks for --probe (/health/alive) again and again (connect + request, each attempt bounded) until
   it reads a complete 200 or --limit seconds pass; the storm keeps pushing meanwhile, still never reading.
4. Watches (TCP_INFO / SO_ERROR / send errors, no reads) whether and when the server closes the storm sockets,
   then drains them for 1 s to tell closed from open.

Prints a line per phase and last a line of key=value pairs for the wrapper (scripts/e2e-storm.sh):
  RESULT label=public served=1 elapsed=1.08 within=2.0 stalled=1 ... closed_total=5/5 ...
Exit status: 0 when the fresh client was served within --within seconds of the stall, 1 otherwise.
Only 127.0.0.1 is targeted; every loop is bounded in time and count.
"""
import argparse
import errno
import fcntl
import select
import socket
import struct
import sys
import termios
import time

HOST = "127.0.0.1"
TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE",
              8: "CLOSE_WAIT", 9: "LAST_ACK", 11: "CLOSING"}


def tcp_state(sock):
    """The kernel's TCP state of sock (Linux TCP_INFO), or None where unavailable."""
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, getattr(socket, "TCP_INFO", 11), 8)[0]
    except OSError:
        return None


def server_queues(port):
    """{client port: the server-side send queue in bytes} for the connections to 127.0.0.1:port (Linux)."""
    out = {}
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                local, remote, queues = fields[1], fields[2], fields[4]
                if local == f"0100007F:{port:04X}" and remote.startswith("0100007F:"):
                    out[int(remote.split(":")[1], 16)] = int(queues.split(":")[0], 16)
    except OSError:
        pass
    return out


class StormSocket:
    def __init__(self, index, port, blob, rcvbuf, mss):
        self.index, self.port = index, port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connect, so the advertised window is small from the start and the server's output stalls fast.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        # A small MSS in the SYN clamps the server's segment size, and Linux sizes the server's send buffer from
        # it (tcp_sndbuf_expand): a few tens of KiB instead of MiBs, so the output stalls after a few hundred
        # responses rather than after ~10 000 (which a debug build takes seconds to produce).
        if mss:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        self.blob = blob
        self.sent = 0
        self.closed_at = None      # monotonic time the server's close was first seen
        self.closed_how = None     # "reset", "fin", "send:<errno>"
        self.inq = 0               # bytes the server has delivered that we have not read
        self.inq_grew_at = None    # last time the server's output to it made progress
        self.server_tx = 0         # the server's send queue for it, when /proc/net/tcp shows it

    def progressed(self, server_queues):
        """Notes progress of the server's output to this socket: our unread bytes grew, or the server's send
        queue for it (/proc/net/tcp, Linux) changed. Once both stay put the server's output is stalled."""
        if self.closed_at is not None:
            return
        try:
            inq = struct.unpack("i", fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
        except OSError:
            inq = self.inq
        tx = server_queues.get(self.sock.getsockname()[1], self.server_tx)
        if inq > self.inq or tx != self.server_tx:
            self.inq_grew_at = time.monotonic()
        self.inq, self.server_tx = max(inq, self.inq), tx

    def connect(self, timeout):
        self.sock.settimeout(timeout)
        self.sock.connect((HOST, self.port))
        self.sock.setblocking(False)

    def try_send(self, budget=1 << 20):
        """One non-blocking send of up to budget bytes; returns bytes sent (0 on EAGAIN or when all is sent)."""
        if self.closed_at is not None or self.sent >= len(self.blob):
            return 0
        try:
            n = self.sock.send(self.blob[self.sent:self.sent + budget])
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as e:
            self.mark_closed("send:" + errno.errorcode.get(e.errno, str(e.errno)))
            return 0
        self.sent += n
        return n

    def mark_closed(self, how):
        if self.closed_at is None:
            self.closed_at, self.closed_how = time.monotonic(), how

    def poll_closed(self):
        """Sees the server's close without reading: TCP state CLOSE (RST) / CLOSE_WAIT (FIN) or a pending error."""
        if self.closed_at is not None:
            return True
        state = tcp_state(self.sock)
        if state == 7:
            self.mark_closed("reset")
        elif state in (8, 9):
            self.mark_closed("fin")
        else:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.mark_closed("error:" + errno.errorcode.get(err, str(err)))
        return self.closed_at is not None


def fresh_request(port, path, timeout):
    """One fresh client attempt: connect, GET path, read one complete response. Returns (status or None, detail)."""
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect((HOST, port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                head = data[:head_end].decode("latin-1")
                length = None
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                if length is not None and len(data) - head_end - 4 >= length:
                    return int(head.split(" ", 2)[1]), "complete"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, "timeout"
            s.settimeout(remaining)
            chunk = s.recv(65536)
            if not chunk:
                if head_end >= 0 and b"content-length" not in data[:head_end].lower():
                    return int(data.split(b" ", 2)[1]), "complete-eof"
                return None, "eof" if not data else "truncated"
            data += chunk
    except socket.timeout:
        return None, "timeout"
    except ConnectionResetError:
        return None, "reset"
    except ConnectionRefusedError:
        return None, "refused"
    except OSError as e:
        return None, errno.errorcode.get(e.errno, str(e))
    finally:
        s.close()


def drain(storm, seconds):
    """After the measurement: read what is left for a bounded time, to tell closed (EOF/RST) from still open and
    count the responses the server had produced. Returns {index: (verdict, responses)}."""
    out, data = {}, {s.index: 0 for s in storm}
    tails = {s.index: b"" for s in storm}
    live = [s for s in storm]
    end = time.monotonic() + seconds
    while live and time.monotonic() < end:
        ready, _, _ = select.select([s.sock for s in live], [], [], max(0.0, min(0.1, end - time.monotonic())))
        for s in [s for s in live if s.sock in ready]:
            try:
                chunk = s.sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionResetError:
                out[s.index] = "reset"
                live.remove(s)
                continue
            if not chunk:
                out[s.index] = "eof"
                live.remove(s)
                continue
            text = tails[s.index] + chunk
            data[s.index] += text.count(b"HTTP/1.1 ")
            tails[s.index] = text[-8:]  # shorter than the marker: a match is never counted twice
    for s in live:
        out[s.index] = "open"
    return {i: (out[i], data[i]) for i in out}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/v2alpha1/derivedKeys/jwks.json", help="pipelined by the storm")
    p.add_argument("--probe", default="/health/alive", help="asked by the fresh client")
    p.add_argument("--connections", type=int, default=5, help="storm size (= serve.http.max_connections)")
    p.add_argument("--requests", type=int, default=20000, help="pipelined requests per storm connection")
    p.add_argument("--rcvbuf", type=int, default=4096, help="SO_RCVBUF of the storm sockets")
    p.add_argument("--mss", type=int, default=536, help="TCP_MAXSEG of the storm sockets (0: the kernel's)")
    p.add_argument("--send-seconds", type=float, default=2.0, help="longest the storm pushes before waiting")
    p.add_argument("--quiet", type=float, default=0.3,
                   help="no progress of the server's output for this long on every storm socket = stalled")
    p.add_argument("--stall-seconds", type=float, default=8.0, help="longest wait for the stall")
    p.add_argument("--within", type=float, default=2.0, help="the fresh client must be served within this")
    p.add_argument("--limit", type=float, default=15.0, help="the fresh client gives up after this")
    p.add_argument("--close-within", type=float, default=3.0,
                   help="how long after the stall to keep watching (without reading) for the server's closes")
    p.add_argument("--attempt-timeout", type=float, default=1.0, help="bound of one fresh-client attempt")
    p.add_argument("--label", default="storm")
    a = p.parse_args()
    assert 1 <= a.connections <= 64 and 1 <= a.requests <= 100000
    assert a.limit <= 60 and a.stall_seconds <= 30 and a.send_seconds <= 30 and a.close_within <= 60

    request = f"GET {a.path} HTTP/1.1\r\nHost: {HOST}:{a.port}\r\n\r\n".encode()
    blob = request * a.requests
    storm = []
    for i in range(a.connections):
        s = StormSocket(i, a.port, blob, a.rcvbuf, a.mss)
        s.connect(3.0)
        storm.append(s)
    t_start = time.monotonic()
    for s in storm:
        s.inq_grew_at = t_start

    def watch():
        """One look at the storm: push more where the server takes it, note output progress and closes."""
        for s in storm:
            s.try_send(65536)
        queues = server_queues(a.port)
        for s in storm:
            s.progressed(queues)
            s.poll_closed()

    # 1. Push pipelined requests on every storm socket until each has sent everything or the kernel stopped taking
    # bytes for 0.3 s (the server no longer reads), bounded by --send-seconds overall. Never read.
    last_sent = {s.index: t_start for s in storm}
    send_end = t_start + a.send_seconds
    while time.monotonic() < send_end:
        pending = [s for s in storm if s.closed_at is None and s.sent < len(blob)
                   and time.monotonic() - last_sent[s.index] < 0.3]
        if not pending:
            break
        _, writable, _ = select.select([], [s.sock for s in pending], [], 0.05)
        for s in pending:
            if s.sock in writable and s.try_send() > 0:
                last_sent[s.index] = time.monotonic()
    t_sent = time.monotonic()
    sent = [s.sent // len(request) for s in storm]
    print(f"[{a.label}] storm: {a.connections} connections (SO_RCVBUF {a.rcvbuf}, MSS {a.mss or 'default'}) "
          f"pipelined {min(sent)}..{max(sent)} of {a.requests} requests each "
          f"({sum(s.sent for s in storm) / 1e6:.1f} MB) in {t_sent - t_start:.2f} s, never reading")

    # 2. Wait until the server's output to every storm socket has stalled (or the socket is closed): the storm is
    # then in place, holding every slot with output that makes no progress. The clock starts at the stall.
    stall_end = t_start + a.send_seconds + a.stall_seconds
    stalled = False
    while time.monotonic() < stall_end:
        watch()
        now = time.monotonic()
        if all(s.closed_at is not None or now - s.inq_grew_at >= a.quiet for s in storm):
            stalled = True
            break
        time.sleep(0.05)
    t_stall = max(s.inq_grew_at for s in storm) if stalled else time.monotonic()
    early = sum(1 for s in storm if s.closed_at is not None)
    print(f"[{a.label}] the server's output to the storm "
          + (f"stalled {t_stall - t_start:.2f} s after the storm's start" if stalled else
             f"did NOT stall within {a.stall_seconds:.0f} s; measuring from now")
          + f" (unread bytes per socket {min(s.inq for s in storm)}..{max(s.inq for s in storm)}, server send queue "
          f"{min(s.server_tx for s in storm)}..{max(s.server_tx for s in storm)} bytes; {early} already closed)")

    # 3. The fresh client, retried until served or --limit after the stall; the storm keeps pushing and is watched.
    attempts, errors, served = 0, {}, None
    limit_end = t_stall + a.limit
    while time.monotonic() < limit_end and attempts < 1000:
        watch()
        attempts += 1
        status, detail = fresh_request(a.port, a.probe, min(a.attempt_timeout, max(0.05, limit_end - time.monotonic())))
        if status == 200:
            served = time.monotonic() - t_stall
            break
        key = detail if status is None else f"status {status}"
        errors[key] = errors.get(key, 0) + 1
        time.sleep(0.05)
    error_text = ", ".join(f"{k} x{v}" for k, v in sorted(errors.items())) or "none"
    if served is not None:
        print(f"[{a.label}] fresh client served after {served:.2f} s from the stall "
              f"({served + t_stall - t_start:.2f} s from the storm's start; {attempts} attempts; failures: {error_text})")
    else:
        print(f"[{a.label}] fresh client NOT served within {a.limit:.0f} s of the stall "
              f"({attempts} attempts; failures: {error_text})")

    # 4. Keep watching (still not reading) until every storm socket is closed or --close-within after the stall.
    close_end = t_stall + a.close_within
    while time.monotonic() < close_end and not all(s.closed_at is not None for s in storm):
        watch()
        time.sleep(0.05)
    closed = [s for s in storm if s.closed_at is not None]
    times = sorted(s.closed_at - t_stall for s in closed)
    states = [TCP_STATES.get(tcp_state(s.sock), str(tcp_state(s.sock))) for s in storm]
    print(f"[{a.label}] storm sockets seen closed by the server (without reading): {len(closed)}/{len(storm)}"
          + (f", {times[0]:.2f}..{times[-1]:.2f} s after the stall"
             f" ({', '.join(sorted(set(s.closed_how for s in closed)))})" if closed else "")
          + f"; TCP states: {', '.join(states)}; held {time.monotonic() - t_start:.1f} s")

    # 5. Reading now (the measurement is over): closed (EOF/RST) or still open, and how many responses arrive.
    drained = drain(storm, 1.0)
    verdicts = [drained[s.index][0] for s in storm]
    responses = [drained[s.index][1] for s in storm]
    print(f"[{a.label}] on draining for 1 s: {', '.join(verdicts)}; responses read per connection: "
          f"{min(responses)}..{max(responses)}")
    for s in storm:
        try:
            s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.sock.close()
        except OSError:
            pass

    closed_total = sum(1 for v in verdicts if v != "open")
    ok = served is not None and served <= a.within
    print(f"RESULT label={a.label} served={int(served is not None)} elapsed={served if served is not None else -1:.2f} "
          f"within={a.within} stalled={int(stalled)} stalled_at={t_stall - t_start:.2f} "
          f"storm_closed={len(closed)}/{len(storm)} closed_max={times[-1] if times else -1:.2f} "
          f"closed_total={closed_total}/{len(storm)} pipelined_min={min(sent)} attempts={attempts} pass={int(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
