#!/usr/bin/env python3
"""A g-set node that cannot come back: the first three starts (one per node of the
test's cluster) run the gossiping g-set; any later start (a restart after a kill)
never answers init, so the restart fails. Used to test that a failed restart is
recorded, the run goes on and is judged, and every node is stopped."""
import glob
import os
import time
import uuid

marker = f"/tmp/fl-no-restart-{os.getppid()}"
if len(glob.glob(marker + "-*")) >= 3:
    while True:
        time.sleep(60)
open(f"{marker}-{uuid.uuid4().hex}", "w").close()
here = os.path.dirname(os.path.abspath(__file__))
os.execv(os.path.join(here, "g_set.py"), [os.path.join(here, "g_set.py")])
