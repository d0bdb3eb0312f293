"""What one chat session remembers, as plain JSON-ready data.

It lives in Chainlit's per-session ``user_session`` (never in module globals, so two tabs or two people
never share state) and is copied into the thread's metadata after each change, so a resumed thread can
re-render its cards and plots from the stored recommendation and scenarios.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

STATE_KEY = "preflight"

Stage = Literal["start", "clarifying", "confirming", "planned"]


class ChatState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    stage: Stage = "start"
    input_text: str | None = Field(default=None, description="The first description, and answers appended")
    intent: dict[str, Any] | None = Field(default=None, description="DeploymentIntent while clarifying")
    asked: list[str] = Field(default_factory=list, description="Keys of clarifying questions already asked")
    pending_question: dict[str, Any] | None = Field(default=None, description="A ClarifyingQuestion")
    unknown_fields: list[str] = Field(default_factory=list, description="Fields answered 'I don't know'")
    unused_numbers: list[float] = Field(
        default_factory=list, description="Numbers in the description no field took (shown on the card)"
    )
    spec: dict[str, Any] | None = Field(default=None, description="The current Specification")
    recommendation_id: str | None = None
    scenario_ids: list[int] = Field(default_factory=list, description="Scenarios saved in this thread")
    compared: list[int] = Field(default_factory=list, description="The last compared scenario ids")
    deployment_ids: list[str] = Field(default_factory=list, description="Deployments made in this thread")

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None) -> ChatState:
        raw = (metadata or {}).get(STATE_KEY)
        if not isinstance(raw, dict):
            return cls()
        return cls.model_validate(raw)

    def to_metadata(self) -> dict[str, Any]:
        return {STATE_KEY: self.model_dump(mode="json")}
