"""The application-service layer: one typed ``Request -> Result`` function per operation.

Every operation takes its request and an explicit :class:`~app.services.context.Context` (who is acting, the
unit of work, the settings) and enforces, itself, what the adapters must never decide differently:
ownership (another person's object reads as not found), input bounds (a value beyond one is
:class:`~app.errors.Invalid` naming the bound) and capacity (CPU-heavy work runs in the bounded
:mod:`~app.services.workers` pool; over capacity is :class:`~app.errors.RateLimited` with a retry time).

The CLI (``app/cli.py`` and the areas' ``cli.py``), the HTTP routes (the areas' ``routes.py``) and the chat
(``app/chat``) only parse, call one of these functions and render; errors are mapped once in
:mod:`app.errors`. Domain code (``app.perf``, ``app.intent``, ``app.planning``'s maths, ``app.deploy``
rendering) gets its data passed in by these functions.
"""
