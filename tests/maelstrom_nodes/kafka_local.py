#!/usr/bin/env python3
"""A broken Kafka-style log node: kafka.py, but every node keeps its own logs and
never tells the others, so two nodes hand out the same offset for different
messages and a poll on one node misses what another acknowledged."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka  # noqa: E402

kafka.LOCAL = True
kafka.node.run()
