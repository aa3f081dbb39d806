#!/usr/bin/env python3
"""A target fleet in one process: N targets on consecutive loopback ports, each serving
SERIES counters in the Prometheus text format; values move on every request. Port BASE-1
answers the number of scrapes served so far (to count missed scrapes)."""
import asyncio, sys

base, targets, series = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
VARIANTS = 8

def body(t, v):
    lines = []
    for m in range(series // 10):
        name = f"fleet_requests_total_{m}"
        lines.append(f"# TYPE {name} counter")
        for i in range(10):
            lines.append(f'{name}{{handler="/api/h{i}",code="{200 + (i % 3) * 100}"}} {(t * 7 + m * 13 + i) * 10 + v * (i + 1)}')
    return ("\n".join(lines) + "\n").encode()

bodies = [[body(t, v) for v in range(VARIANTS)] for t in range(targets)]
counters = [0] * targets

def server(answer):
    """A keep-alive HTTP/1.1 handler: `answer()` gives each request's body."""
    async def handle(reader, writer):
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                b = answer()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: "
                             + str(len(b)).encode() + b"\r\n\r\n" + b)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionResetError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
    return handle

def target(t):
    def answer():
        counters[t] += 1
        return bodies[t][counters[t] % VARIANTS]
    return answer

async def main():
    servers = [await asyncio.start_server(server(target(t)), "127.0.0.1", base + t) for t in range(targets)]
    servers.append(await asyncio.start_server(server(lambda: str(sum(counters)).encode()), "127.0.0.1", base - 1))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))

asyncio.run(main())
