"""The clock-driven shell: plan reminders into the outbox, dispatch it, run the fixed jobs.

Everything that reads the clock lives here (``scheduler.clock``), and only at the edge: planning
and the dispatcher take ``now`` as a parameter.
"""
