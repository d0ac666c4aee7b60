"""The one layer that changes state: actions per area over one "lock, decide, write, publish" unit.

`service.service.Service` is built once per process (in the app's lifespan) and handed to both
adapters, the Socket.IO hub and the HTTP routes. An area asks the pure core what changes and what
to announce, writes it through the unit, and publishes through the one after-commit path
(`service.publish`).
"""
