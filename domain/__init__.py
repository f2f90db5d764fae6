"""The pure core of nhacviec: rules about plans, deadlines, agencies, reminders, replies and status.

Nothing in this package reads files, the network, the database or the clock: every function that
needs the current time takes it as a parameter. The shells (storage, scheduler, bot, reports, app)
carry out what these functions decide.
"""
