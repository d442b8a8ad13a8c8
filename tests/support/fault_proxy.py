#!/usr/bin/env python3
"""A Kafka-aware TCP proxy that loses produce responses, refuses produce requests or delays an EndTxn, for the
idempotence and transactions tests.

    fault_proxy.py --broker 127.0.0.1:9092 --listen 19999 [--drop-every N] [--refuse-first N] [--stats FILE]
                   [--hold-end-txn REPORT]

Clients connect to 127.0.0.1:LISTEN; Metadata and FindCoordinator answers are rewritten so they keep connecting
through the proxy.
Every Nth Produce response is not delivered: the proxy closes the client's connection instead, as a network
failure after the broker wrote the batch would. The client then retries batches the broker already has.
The first N Produce requests are not passed on: the proxy answers them NOT_ENOUGH_REPLICAS itself, as a leader
whose in-sync replicas were short for a moment would, while the requests after them reach the broker. Each
refusal is sent when the client's next produce request arrives: the client has that one in flight already.
The number of responses dropped and requests refused is written to --stats (one integer) whenever it changes.
With --hold-end-txn the first EndTxn request is held back: the client gets no answer, times out and sends it
again, which the proxy passes on. Once the client has ended that transaction (the retry was answered) and a
produce of its next transaction has been answered, the held request is delivered to the broker on a connection
of its own, as a network that kept it in a queue would. REPORT gets one JSON object when that happens: the
request's version, the error code the broker answered it with, and the order of events the proxy saw.
"""
import json
import argparse
import asyncio
import struct

PRODUCE, METADATA, FIND_COORDINATOR, END_TXN = 0, 3, 10, 26
NOT_ENOUGH_REPLICAS = 19


class Lost(Exception):
    pass


def uvarint(value):
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def refusal(frame, error_code):
    """A Produce response (versions 3-12) refusing every partition of the request in `frame`."""
    at = 8

    def take(fmt):
        nonlocal at
        values = struct.unpack_from(fmt, frame, at)
        at += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def read_uvarint():
        nonlocal at
        value, shift = 0, 0
        while True:
            byte = frame[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    def skip_tags():
        for _ in range(read_uvarint()):
            read_uvarint()
            skip(read_uvarint())

    def skip(n):
        nonlocal at
        at += max(n, 0)

    def string():  # classic (int16 length) or compact (uvarint length + 1), -1 / 0 for null
        nonlocal at
        length = read_uvarint() - 1 if flexible else take(">h")
        value = frame[at:at + max(length, 0)]
        skip(length)
        return value

    def count():
        return read_uvarint() - 1 if flexible else take(">i")

    version, correlation = struct.unpack_from(">hi", frame, 2)
    if not 3 <= version <= 12:
        raise ValueError(f"cannot refuse Produce v{version}")
    flexible = version >= 9
    skip(take(">h"))                # client id: a classic string in every request header
    if flexible:
        skip_tags()
    string()                        # transactional id
    take(">hi")                     # acks, timeout
    body = struct.pack(">i", correlation) + (uvarint(0) if flexible else b"")
    topics = count()
    body += uvarint(topics + 1) if flexible else struct.pack(">i", topics)
    for _ in range(topics):
        name = string()
        partitions = count()
        if flexible:
            body += uvarint(len(name) + 1) + name + uvarint(partitions + 1)
        else:
            body += struct.pack(">h", len(name)) + name + struct.pack(">i", partitions)
        for _ in range(partitions):
            index = take(">i")
            skip(read_uvarint() - 1 if flexible else take(">i"))   # the records
            if flexible:
                skip_tags()
            body += struct.pack(">ihqq", index, error_code, -1, -1)
            if version >= 5:
                body += struct.pack(">q", -1)                      # log start offset
            if version >= 8:                                       # record errors, error message
                body += uvarint(1) + uvarint(0) + uvarint(0) if flexible else struct.pack(">ih", 0, -1)
        if flexible:
            skip_tags()
            body += uvarint(0)
    body += struct.pack(">i", 0) + (uvarint(0) if flexible else b"")   # throttle time
    return struct.pack(">i", len(body)) + body


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--drop-every", type=int, default=0)
    parser.add_argument("--refuse-first", type=int, default=0)
    parser.add_argument("--stats")
    parser.add_argument("--hold-end-txn")
    args = parser.parse_args()
    host, port = args.broker.rsplit(":", 1)
    broker_port = int(port)
    counters = {"produce_responses": 0, "produce_requests": 0, "dropped": 0}
    # --hold-end-txn: the held request, and what the proxy has seen since ("held", "retry answered", ...).
    holding = {"frame": None, "events": [], "delivering": False}

    def event(what):
        holding["events"].append(what)
        print(what, flush=True)

    async def deliver_held():
        """Sends the held EndTxn to the broker on a connection of its own and reports the broker's answer."""
        frame = holding["frame"]
        reader, writer = await asyncio.open_connection(host, broker_port)
        writer.write(struct.pack(">i", len(frame)) + frame)
        await writer.drain()
        head = await reader.readexactly(4)
        answer = await reader.readexactly(struct.unpack(">i", head)[0])
        writer.close()
        version = struct.unpack_from(">h", frame, 2)[0]
        # Response header v1 (a tagged-field byte) from EndTxn v3, then throttle_time_ms, then error_code.
        at = 4 + (1 if version >= 3 else 0) + 4
        event("held request delivered")
        with open(args.hold_end_txn, "w") as f:
            json.dump({"version": version, "error_code": struct.unpack_from(">h", answer, at)[0],
                       "events": holding["events"]}, f)

    def count_fault():
        counters["dropped"] += 1
        if args.stats:
            with open(args.stats, "w") as f:
                f.write(str(counters["dropped"]))

    async def requests(client, client_writer, broker, pending):
        held = []
        while True:
            head = await client.readexactly(4)
            frame = await client.readexactly(struct.unpack(">i", head)[0])
            api_key, _, correlation = struct.unpack(">hhi", frame[:8])
            if api_key == END_TXN and args.hold_end_txn:
                if holding["frame"] is None:
                    holding["frame"] = frame
                    event("EndTxn held")
                    continue  # the client hears nothing and sends it again
                event("EndTxn retried")
            if api_key == PRODUCE:
                counters["produce_requests"] += 1
                if held:
                    # The refusal goes out only once the client has sent its next produce request, so that the
                    # request after the refused one is in flight when the refusal arrives, and before that request
                    # reaches the broker, so that responses stay in order.
                    client_writer.write(held.pop())
                    await client_writer.drain()
                    count_fault()
                if counters["produce_requests"] <= args.refuse_first:
                    held.append(refusal(frame, NOT_ENOUGH_REPLICAS))
                    continue
            pending[correlation] = api_key
            broker.write(head + frame)
            await broker.drain()

    async def responses(broker, client, pending):
        while True:
            head = await broker.readexactly(4)
            frame = await broker.readexactly(struct.unpack(">i", head)[0])
            (correlation,) = struct.unpack(">i", frame[:4])
            api_key = pending.pop(correlation, None)
            if holding["frame"] is not None and not holding["delivering"]:
                if api_key == END_TXN:
                    event("EndTxn retry answered")
                elif api_key == PRODUCE and "EndTxn retry answered" in holding["events"]:
                    event("produce of the next transaction answered")
                    holding["delivering"] = True
                    asyncio.create_task(deliver_held())
            if api_key in (METADATA, FIND_COORDINATOR):
                # The broker's port appears as an int32 after each broker's host; the proxy's has the same width.
                frame = frame.replace(struct.pack(">i", broker_port), struct.pack(">i", args.listen))
            if api_key == PRODUCE and args.drop_every:
                counters["produce_responses"] += 1
                if counters["produce_responses"] % args.drop_every == 0:
                    count_fault()
                    raise Lost()
            client.write(head + frame)
            await client.drain()

    async def handle(client_reader, client_writer):
        broker_reader, broker_writer = await asyncio.open_connection(host, broker_port)
        pending = {}
        tasks = [asyncio.create_task(requests(client_reader, client_writer, broker_writer, pending)),
                 asyncio.create_task(responses(broker_reader, client_writer, pending))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for t in tasks:
                t.cancel()
            client_writer.close()
            broker_writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", args.listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
