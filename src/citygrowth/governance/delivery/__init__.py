"""Delivery of dispatched cases to departments, as FixMyStreet's SendReport does it.

Every dispatch (派遣, and every return for rework) writes one **send record** per channel of
the department (:class:`~citygrowth.governance.delivery.models.CaseDelivery`) in the same
transaction as the case's step, with its own state — pending, sent, failed — apart from the
case's. The in-app inbox is delivered at once; the other channels (``webhook``, ``email`` and
any plugin's, through ``citygrowth_dispatch_channels``) are sent by the scheduled job
``cases.deliver`` and retried with exponential back-off until sent or out of attempts.
One module per channel: :mod:`.inbox`, :mod:`.webhook`, :mod:`.email`.
"""
