"""The file Chainlit loads as its app (``mount_chainlit`` wants a path). Importing the handlers registers
them with Chainlit once per process, however many times the app is mounted."""

import app.chat.handlers  # noqa: F401
