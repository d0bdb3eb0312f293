"""The file Chainlit loads as its app (``mount_chainlit`` wants a path). Importing the handlers registers
them with Chainlit once per process, however many times the app is mounted (stage 4's deploy and
monitoring callbacks are in their own module)."""

import app.chat.deploy_handlers
import app.chat.handlers  # noqa: F401
