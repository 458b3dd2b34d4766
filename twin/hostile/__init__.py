"""Hostile and odd input mixed into a simulated store-day: the probe of issue #25 as Kafka messages.

:func:`~twin.hostile.kinds.hostile_messages` builds, for one store-day of the twin, every class of bad
message the issue measured (poison bytes, impossible and future timestamps, unknown places, forged
scans, conflicting duplicates, wrong picks), each with its place in the day's send order (before the
day's first events, mid-day, at the end) and what the consumers of the edge topics must make of it (its
:class:`~twin.hostile.message.Fate`). :func:`~twin.hostile.probe.publish_hostile_day` sends the day
through its gateway, signed as :func:`~twin.run.edge_to_kafka` signs it, with the hostile messages in
their places, and says where each one landed (partition, offset), so that its dead letter can be found
by its source.

"Signed" means signed as a faulty genuine device signs: with that device's own key. Proof of origin
does not make a message right; the consumers must still refuse it, correct it or hold it apart.

The modules: :mod:`.message` (a hostile message, its place and its fate), :mod:`.day` (the store-day
the messages are made from), :mod:`.kinds` (every class of the issue) and :mod:`.probe` (the day
forwarded and published with them, and their dead letters found again).
"""
