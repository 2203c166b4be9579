#!/usr/bin/python3
"""callwright's network impairer: loss, delay, jitter and reordering for one role's network namespace.

Packets are steered here by iptables NFQUEUE rules (one queue for what the role sends, one for what
it receives) and stay in the kernel: this program only decides each packet's fate and time, by
issuing its verdict (accept or drop) when it is due. It does what netem does, in user space, so it
works on kernels built without sch_netem and needs no payload copy. Rate limits are tbf's, in the
kernel, after this.

Usage: impairer.py UP_QUEUE DOWN_QUEUE   (run inside the namespace: NFQUEUE numbers are per namespace)
stdin:  one JSON object per line, {"up": DIRECTION, "down": DIRECTION}, applied at once; EOF stops.
        DIRECTION: {"lossPct", "burst", "delayMs", "jitterMs", "reorderPct"} (all optional, 0 by default)
stdout: "ready" once both queues are bound; at the end one JSON line of counters per direction.
Standard library only (AF_NETLINK sockets are in Python's socket module; Node has none).
"""

import heapq
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NF_DROP = 0
NF_ACCEPT = 1
# Packets the kernel may hold for us per queue: 300 ms of delay on 100 legs of 50 packets/s is 1500.
QUEUE_MAXLEN = 8192


def attribute(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def message(msg_type, queue, attributes, flags=NLM_F_REQUEST, seq=0):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + b"".join(attributes)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body


class Direction:
    """One direction's impairment, and what it did."""

    def __init__(self, name):
        self.name = name
        self.set({})
        self.bad = False  # Gilbert-Elliott state: in a burst of losses
        self.counts = {"packets": 0, "dropped": 0, "delayed": 0, "reordered": 0}

    def set(self, spec):
        self.loss = max(0.0, min(1.0, float(spec.get("lossPct", 0)) / 100))
        self.burst = max(1.0, float(spec.get("burst", 1)))
        self.delay = max(0.0, float(spec.get("delayMs", 0))) / 1000
        self.jitter = max(0.0, float(spec.get("jitterMs", 0))) / 1000
        self.reorder = max(0.0, min(1.0, float(spec.get("reorderPct", 0)) / 100))

    def lost(self):
        """Random loss with bursts of mean length `burst` (Gilbert model; burst 1 is independent loss)."""
        if self.loss <= 0:
            self.bad = False
            return False
        if self.burst <= 1 or self.loss >= 1:
            return random.random() < self.loss
        leave_bad = 1 / self.burst
        enter_bad = leave_bad * self.loss / (1 - self.loss)
        self.bad = random.random() >= leave_bad if self.bad else random.random() < enter_bad
        return self.bad

    def delay_of_packet(self):
        """Seconds to hold a packet: netem's `delay D J distribution normal` (J the standard deviation,
        never below 0; later packets may overtake, as in netem), or none for a reordered one."""
        if self.reorder > 0 and random.random() < self.reorder and self.delay + self.jitter > 0:
            self.counts["reordered"] += 1
            return 0.0
        if self.jitter > 0:
            return max(0.0, random.gauss(self.delay, self.jitter))
        return self.delay


def main():
    up_queue, down_queue = int(sys.argv[1]), int(sys.argv[2])
    directions = {up_queue: Direction("up"), down_queue: Direction("down")}
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((0, 0))
    for seq, queue in enumerate((up_queue, down_queue), start=1):
        sock.send(message(NFQNL_MSG_CONFIG, queue, [
            attribute(NFQA_CFG_CMD, struct.pack("=BBH", NFQNL_CFG_CMD_BIND, 0, socket.htons(socket.AF_INET))),
            attribute(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)),
            attribute(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN)),
        ], NLM_F_REQUEST | NLM_F_ACK, seq))
        reply = sock.recv(65536)
        if struct.unpack_from("=H", reply, 4)[0] == NLMSG_ERROR:
            error = struct.unpack_from("=i", reply, 16)[0]
            if error != 0:
                sys.stderr.write(f"impairer: cannot bind NFQUEUE {queue}: {os.strerror(-error)}\n")
                return 2
    print("ready", flush=True)

    held = []  # (due, sequence, queue, packet id, verdict): released in due order
    sequence = 0
    stdin = sys.stdin.fileno()
    pending = b""  # stdin read so far, up to an incomplete line
    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            now = time.monotonic()
            while held and held[0][0] <= now:
                _, _, queue, packet_id, verdict = heapq.heappop(held)
                sock.send(verdict_message(queue, packet_id, verdict))
            timeout = max(0.0, held[0][0] - now) if held else None
            readable, _, _ = select.select([sock, stdin], [], [], timeout)
            if stdin in readable:
                chunk = os.read(stdin, 65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        apply(directions, json.loads(line))
            if sock in readable:
                sequence = take_packets(sock, directions, held, sequence)
    except Stopped:
        pass
    # Stopping: let every held packet go now rather than leave the kernel holding them.
    for _, _, queue, packet_id, verdict in sorted(held):
        sock.send(verdict_message(queue, packet_id, verdict))
    print(json.dumps({d.name: d.counts for d in directions.values()}), flush=True)
    return 0


class Stopped(Exception):
    pass


def stop(_signum, _frame):
    raise Stopped()


def apply(directions, spec):
    for direction in directions.values():
        if direction.name in spec:
            direction.set(spec[direction.name] or {})


def take_packets(sock, directions, held, sequence):
    """Decides the fate of every packet queued so far; returns the last sequence number used."""
    # Everything queued so far, without blocking: one datagram may carry several packets.
    while True:
        try:
            data = sock.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return sequence
        now = time.monotonic()
        for queue, packet_id in packets_in(data):
            direction = directions.get(queue)
            if direction is None:
                continue
            direction.counts["packets"] += 1
            if direction.lost():
                direction.counts["dropped"] += 1
                sock.send(verdict_message(queue, packet_id, NF_DROP))
                continue
            hold = direction.delay_of_packet()
            if hold <= 0:
                sock.send(verdict_message(queue, packet_id, NF_ACCEPT))
                continue
            direction.counts["delayed"] += 1
            sequence += 1
            heapq.heappush(held, (now + hold, sequence, queue, packet_id, NF_ACCEPT))


def verdict_message(queue, packet_id, verdict):
    return message(NFQNL_MSG_VERDICT, queue, [attribute(NFQA_VERDICT_HDR, struct.pack("!II", verdict, packet_id))])


def packets_in(data):
    """(queue, packet id) of each NFQNL_MSG_PACKET in one netlink datagram."""
    offset = 0
    while offset + 16 <= len(data):
        length, msg_type = struct.unpack_from("=IH", data, offset)
        if length < 16:
            break
        if msg_type == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            queue = socket.ntohs(struct.unpack_from("=H", data, offset + 18)[0])
            attr = offset + 20
            end = offset + length
            while attr + 4 <= end:
                attr_length, attr_type = struct.unpack_from("=HH", data, attr)
                if attr_length < 4:
                    break
                if (attr_type & 0x7FFF) == NFQA_PACKET_HDR:
                    yield queue, struct.unpack_from("!I", data, attr + 4)[0]
                    break
                attr += (attr_length + 3) & ~3
        offset += (length + 3) & ~3


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
