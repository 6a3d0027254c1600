"""Collecting configuration files from servers: this machine, and hosts over SSH.

:mod:`.hosts` gives one small interface over both (glob, read, write
atomically); :mod:`.runner` reads every source and records what changed.
"""
