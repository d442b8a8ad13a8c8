#!/usr/bin/env python3
"""A Kafka-aware TCP proxy that loses produce responses, for the idempotence tests.

    fault_proxy.py --broker 127.0.0.1:9092 --listen 19999 [--drop-every N] [--stats FILE]

Clients connect to 127.0.0.1:LISTEN; Metadata answers are rewritten so they keep connecting through the proxy.
Every Nth Produce response is not delivered: the proxy closes the client's connection instead, as a network
failure after the broker wrote the batch would. The client then retries batches the broker already has. The
number of responses dropped is written to --stats (one integer) whenever it changes.
"""
import argparse
import asyncio
import struct

PRODUCE, METADATA = 0, 3


class Lost(Exception):
    pass


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--drop-every", type=int, default=0)
    parser.add_argument("--stats")
    args = parser.parse_args()
    host, port = args.broker.rsplit(":", 1)
    broker_port = int(port)
    counters = {"produce_responses": 0, "dropped": 0}

    async def requests(client, broker, pending):
        while True:
            head = await client.readexactly(4)
            frame = await client.readexactly(struct.unpack(">i", head)[0])
            api_key, _, correlation = struct.unpack(">hhi", frame[:8])
            pending[correlation] = api_key
            broker.write(head + frame)
            await broker.drain()

    async def responses(broker, client, pending):
        while True:
            head = await broker.readexactly(4)
            frame = await broker.readexactly(struct.unpack(">i", head)[0])
            (correlation,) = struct.unpack(">i", frame[:4])
            api_key = pending.pop(correlation, None)
            if api_key == METADATA:
                # The broker's port appears as an int32 after each broker's host; the proxy's has the same width.
                frame = frame.replace(struct.pack(">i", broker_port), struct.pack(">i", args.listen))
            if api_key == PRODUCE and args.drop_every:
                counters["produce_responses"] += 1
                if counters["produce_responses"] % args.drop_every == 0:
                    counters["dropped"] += 1
                    if args.stats:
                        with open(args.stats, "w") as f:
                            f.write(str(counters["dropped"]))
                    raise Lost()
            client.write(head + frame)
            await client.drain()

    async def handle(client_reader, client_writer):
        broker_reader, broker_writer = await asyncio.open_connection(host, broker_port)
        pending = {}
        tasks = [asyncio.create_task(requests(client_reader, broker_writer, pending)),
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
