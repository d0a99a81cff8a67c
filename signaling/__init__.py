"""Video session signaling: session state, who may signal whom, ICE/TURN, SDP checks.

A feature of the hub: `signaling.handlers.register` adds the ``rtc.*`` requests to the hub when
the application is composed (`twinspace_rt/services.py`). It depends on `twinspace_rt`, never
the other way round; answers travel back through the hub's broker, so participants on different
nodes reach each other.
"""
