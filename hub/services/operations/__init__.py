"""What operators run on a hub as a whole, over the composition root
(:class:`hub.services.hub.Hub`) rather than beside the other services:

- :mod:`.runtime`: the one rule for opening a hub's database (which command may open a schema
  at which revision), what ``serve`` checks before it starts, what a running server adds to a
  hub, readiness;
- :mod:`.backup`: one archive of a hub (database and files) and restoring it into a new home;
  the database copy or dump itself is the store's (:mod:`hub.store.dumps`);
- :mod:`.retention`: deleting object versions older than a collection keeps them;
- :mod:`.stats`: sharing statistics from the audit trail;
- :mod:`.demo`: the demo hub and its examples.
"""
