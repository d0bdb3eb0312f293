"""The conversational app (Chainlit): thin handlers over the same service functions as the CLI and API.

Nothing in this package imports Chainlit at import time except ``handlers`` (loaded by ``mount``), so the
views, plots, editing and flow modules can be used and tested without a UI.
"""
