"""The names of a till's devices and their states, as every face reports them; presenting to an idle one."""
from __future__ import annotations

#: the station's devices, as the status bar shows them
READER, CAMERA, PRINTER = "reader", "camera", "printer"
SIMULATED, ABSENT, OK, FAULT = "sim", "none", "ok", "fault"
SIMULATED_CAMERA = "sim"


class NotArmed(RuntimeError):
    """Something was presented (on a simulated device) while no payment is waiting for it."""
