#!/usr/bin/python3
"""A Modbus TCP device served by pymodbus (Debian's python3-pymodbus), an implementation
nodebridge's own code has no part in, for the integration tests.

    pymodbus_device.py PORT

Listens on 127.0.0.1:PORT and serves unit 1 (any unit id, as pymodbus's single context
does): input registers 0-1 hold the float32 230.5 and 2-3 the float32 12.25 (most significant
word first), holding register 10 holds 421. Prints "ready 127.0.0.1:PORT" once listening and
runs until killed.
"""

import asyncio
import struct
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server.async_io import ModbusTcpServer


def float32_words(value):
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [high, low]


async def serve(port):
    inputs = float32_words(230.5) + float32_words(12.25)
    holding = [0] * 10 + [421]
    device = ModbusSlaveContext(
        ir=ModbusSequentialDataBlock(0, inputs + [0] * 16),
        hr=ModbusSequentialDataBlock(0, holding + [0] * 16),
        zero_mode=True,
    )
    server = ModbusTcpServer(ModbusServerContext(slaves=device, single=True),
                             address=("127.0.0.1", port))
    serving = asyncio.create_task(server.serve_forever())
    while server.server is None:  # bound once serve_forever() has started listening
        await asyncio.sleep(0.01)
    print(f"ready 127.0.0.1:{port}", flush=True)
    await serving


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
