#!/usr/bin/env python3
"""A TCP relay that can cut the network it stands for, for the replication tests.

    partition_proxy.py --listen PORT --target HOST:PORT

Bytes flow both ways until SIGUSR1, which cuts: nothing more is read from either side, so senders' buffers fill
and their requests hang, as when packets are dropped (no reset, no error, just silence); new connections are
accepted and hang too. SIGUSR2 heals: what was waiting flows on.
"""
import argparse
import asyncio
import signal


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--target", required=True)
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    flowing = asyncio.Event()
    flowing.set()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, flowing.clear)
    loop.add_signal_handler(signal.SIGUSR2, flowing.set)

    async def pump(reader, writer):
        try:
            while True:
                await flowing.wait()
                data = await reader.read(65536)
                if not data:
                    break
                await flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def accept(client_reader, client_writer):
        await flowing.wait()
        try:
            target_reader, target_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, target_writer), pump(target_reader, client_writer))

    server = await asyncio.start_server(accept, "127.0.0.1", args.listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
