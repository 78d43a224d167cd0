"""The typed records that flow through the pipeline. No I/O here.

parse -> Trial(sections, fields) -> chunk -> Chunk -> store/retrieve -> Hit
-> prompt/generate -> citations -> Answer(text, citations, abstained, timings)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trialqa.answer.plan import Plan, Table

SourceFormat = Literal[
    "veeva-page", "medpath-page", "ctgov-page", "ctgov-xml", "ctgov-api-v2", "ctgov-classic-json"
]

#: Canonical top-level section names, the same for every source format.
#: A sub-section follows a colon, e.g. "Eligibility: Exclusion".
CANONICAL_SECTIONS = (
    "Title", "Summary", "Description", "Conditions", "Interventions", "Arms", "Eligibility",
    "Design", "Enrollment", "Outcomes", "Sponsor", "Locations", "Contacts", "Status",
    "Identifiers", "Dates", "Results", "Keywords",
)


class Section(BaseModel):
    name: str = Field(description="canonical name, e.g. 'Eligibility: Exclusion'")
    heading: str = Field(default="", description="the heading as written in the source")
    text: str


class Source(BaseModel):
    path: str
    format: SourceFormat


class Intervention(BaseModel):
    type: str | None = None
    name: str | None = None
    description: str | None = None


class Arm(BaseModel):
    label: str | None = None
    type: str | None = None
    description: str | None = None
    interventions: list[str] = Field(default_factory=list)


class Location(BaseModel):
    facility: str | None = None
    city: str | None = None
    country: str | None = None


class TrialFields(BaseModel):
    """Structured fields parsed from the document itself; None when the source lacks them."""

    phase: str | None = None
    status: str | None = None
    study_type: str | None = None
    conditions: list[str] = Field(default_factory=list)
    interventions: list[Intervention] = Field(default_factory=list)
    arms: list[Arm] = Field(default_factory=list)
    enrollment: int | None = None
    enrollment_type: str | None = None
    sex: Literal["All", "Female", "Male"] | None = None
    min_age: str | None = None
    max_age: str | None = None
    healthy_volunteers: bool | None = None
    allocation: str | None = None
    intervention_model: str | None = None
    masking: str | None = None
    primary_purpose: str | None = None
    sponsor: str | None = None
    collaborators: list[str] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    start_date: str | None = None
    completion_date: str | None = None
    primary_outcomes: list[str] = Field(default_factory=list)
    secondary_outcomes: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    acronym: str | None = None
    official_title: str | None = None
    condition_mesh: list[str] = Field(default_factory=list, description="MeSH terms the registry derived for the conditions")
    intervention_mesh: list[str] = Field(default_factory=list, description="MeSH terms derived for the interventions")
    has_results: bool | None = Field(None, description="results are posted in the record (None: the source cannot say)")


class Trial(BaseModel):
    trial_id: str = Field(description="NCT number, or doc_id when the document has none")
    nct_id: str | None = None
    doc_id: str = Field(description="the source file's stem")
    title: str = ""
    source: Source
    sections: list[Section] = Field(default_factory=list)
    fields: TrialFields = Field(default_factory=TrialFields)

    def section_text(self, prefix: str) -> str:
        """All text of sections whose canonical name is `prefix` or starts with `prefix:`."""
        return "\n".join(
            s.text for s in self.sections if s.name == prefix or s.name.startswith(prefix + ":")
        )


class Chunk(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="'<trial_id>#<ordinal>'")
    trial_id: str
    nct_id: str | None = None
    doc_id: str
    title: str = ""
    section: str
    ordinal: int
    text: str

    @property
    def header(self) -> str:
        return f"{self.nct_id or self.doc_id} | {self.title} | {self.section}"

    @property
    def embed_text(self) -> str:
        return f"{self.header}\n{self.text}"


class Hit(BaseModel):
    chunk: Chunk
    score: float
    rank: int


class Citation(BaseModel):
    trial_id: str
    nct_id: str | None = None
    doc_id: str
    section: str
    quote: str
    title: str = ""


class Timings(BaseModel):
    retrieve_s: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0


class Answer(BaseModel):
    text: str
    citations: list[Citation] = Field(default_factory=list)
    abstained: bool = False
    timings: Timings = Field(default_factory=Timings)
    notes: list[str] = Field(default_factory=list, description="e.g. 'question trimmed'")
    error: str | None = None
    trials: list[str] = Field(
        default_factory=list, description="trial ids the answer is about (follow-up state)"
    )
    plan: Plan | None = Field(None, description="the question as understood")
    table: Table | None = Field(None, description="list / count / comparison answers: every matching trial")
    retrieved: list[str] = Field(default_factory=list, description="trial ids retrieval returned, best first")


class SourcesReady(BaseModel):
    """Yielded by `Assistant.stream` when retrieval and evidence selection are done and
    before the model writes: front ends show these sources at once."""

    citations: list[Citation] = Field(default_factory=list)


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str
    trials: list[str] = Field(default_factory=list)
    plan: Plan | None = Field(None, description="the assistant turn's plan (follow-ups refine it)")
