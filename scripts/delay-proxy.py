#!/usr/bin/env python3
"""scripts/delay-proxy.py — a loopback TCP proxy that answers late on demand.

Put in front of a replica by scripts/replicas.sh (the `replica` instance of
each stack) to make it slow without making it lag: every reply (server to
client) is held for the current delay before it is passed on; what the
client sends is forwarded at once. Connections are independent (each reply
waits its own delay, many at a time: nothing is serialised) and bytes keep
their order. Standard library only (asyncio).

USAGE
  delay-proxy.py serve --listen PORT --upstream PORT --control SOCKET [--delay MS]
      Listen on 127.0.0.1:PORT, forward to 127.0.0.1:UPSTREAM. Runs until
      SIGTERM or SIGINT. SOCKET is a unix socket that `set` talks to.
  delay-proxy.py set --control SOCKET MS
      Set the delay to MS milliseconds (0: none). Returns once the proxy has
      it: every reply that arrives from the server afterwards waits MS ms.
      Exit status 1 (and a message) when the proxy does not answer.

Usually through scripts/replicas.sh: `ctl <pg|mariadb> replica slow <ms>|fast`.
"""

import argparse
import asyncio
import collections
import os
import signal
import sys


class Delay:
    """The current delay, shared by every connection."""

    def __init__(self, ms):
        self.seconds = ms / 1000.0


class Pipe(asyncio.Protocol):
    """One side of a proxied connection: what it receives goes to `peer`
    (after the delay when `delayed`), in order. The client side connects its
    server side when it is made; the server side links back to it."""

    def __init__(self, delay, delayed, upstream=None, peer=None):
        self.delay = delay
        self.delayed = delayed
        self.upstream = upstream  # the server's port (client side only)
        self.transport = None
        self.peer = peer
        self.queue = collections.deque()  # (due, bytes), due in loop time
        self.timer = None
        self.eof = False
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport):
        self.transport = transport
        if self.peer is not None:
            self.peer.peer = self  # the server side: link the client to it
        else:
            # The client side: hold what it sends until the server side is
            # connected.
            transport.pause_reading()
            self.loop.create_task(self.connect())

    async def connect(self):
        try:
            await self.loop.create_connection(
                lambda: Pipe(self.delay, delayed=True, peer=self), "127.0.0.1", self.upstream
            )
        except OSError:
            self.transport.close()
            return
        if self.transport.is_closing():
            self.peer.transport.close()
            return
        self.transport.resume_reading()

    def data_received(self, data):
        wait = self.delay.seconds if self.delayed else 0.0
        if wait <= 0 and not self.queue:
            self.peer.transport.write(data)
            return
        # Never before the bytes ahead of it: order is kept when the delay
        # is lowered.
        due = self.loop.time() + wait
        if self.queue:
            due = max(due, self.queue[-1][0])
        self.queue.append((due, data))
        if self.timer is None:
            self.timer = self.loop.call_at(due, self.flush)

    def flush(self):
        self.timer = None
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now:
            self.peer.transport.write(self.queue.popleft()[1])
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self.flush)
        elif self.eof:
            self.peer.transport.close()

    def eof_received(self):
        self.eof = True
        if not self.queue:
            self.peer.transport.close()
        return True  # keep our side open until the peer is closed

    def connection_lost(self, exc):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

    # Flow control: when the peer cannot take more, stop reading from here.
    def pause_writing(self):
        if self.peer is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self):
        if self.peer is not None:
            self.peer.transport.resume_reading()


async def serve(args):
    loop = asyncio.get_running_loop()
    delay = Delay(args.delay)

    async def control(reader, writer):
        try:
            line = (await reader.readline()).decode().split()
            if len(line) == 2 and line[0] == "delay" and line[1].isdigit():
                delay.seconds = int(line[1]) / 1000.0
                writer.write(f"ok {line[1]}\n".encode())
            else:
                writer.write(b"error: expected 'delay <ms>'\n")
            await writer.drain()
        finally:
            writer.close()

    if os.path.exists(args.control):
        os.unlink(args.control)
    control_server = await asyncio.start_unix_server(control, path=args.control)
    server = await loop.create_server(
        lambda: Pipe(delay, delayed=False, upstream=args.upstream),
        "127.0.0.1",
        args.listen,
        reuse_address=True,
    )
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    print(f"delay-proxy: 127.0.0.1:{args.listen} -> 127.0.0.1:{args.upstream}, "
          f"delay {args.delay} ms, control {args.control}", flush=True)
    await stop
    server.close()
    control_server.close()
    try:
        os.unlink(args.control)
    except OSError:
        pass


async def set_delay(args):
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(args.control), timeout=5)
        writer.write(f"delay {args.ms}\n".encode())
        await writer.drain()
        answer = (await asyncio.wait_for(reader.readline(), timeout=5)).decode().strip()
        writer.close()
    except (OSError, asyncio.TimeoutError) as err:
        print(f"delay-proxy: no proxy answers on {args.control}: {err}", file=sys.stderr)
        return 1
    if answer != f"ok {args.ms}":
        print(f"delay-proxy: {answer or 'no answer'}", file=sys.stderr)
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    s = commands.add_parser("serve")
    s.add_argument("--listen", type=int, required=True)
    s.add_argument("--upstream", type=int, required=True)
    s.add_argument("--control", required=True)
    s.add_argument("--delay", type=int, default=0)
    c = commands.add_parser("set")
    c.add_argument("--control", required=True)
    c.add_argument("ms", type=int)
    args = parser.parse_args()
    if args.command == "serve":
        asyncio.run(serve(args))
        return 0
    if args.ms < 0:
        print("delay-proxy: the delay must be 0 or more", file=sys.stderr)
        return 1
    return asyncio.run(set_delay(args))


if __name__ == "__main__":
    sys.exit(main())
