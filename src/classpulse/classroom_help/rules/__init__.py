"""The marts of contract section A computed in pure Python: the oracle of the Flink jobs and dbt.

``label_rows`` applies A.3 to accepted union messages, ``triage_rows`` applies A.4 to the label
rows and the accepted help requests, ``daily_rows`` counts A.5's ``help_triage_daily``. Nothing
here reads SQL; parameters are inputs with the contract's defaults.

Modules: :mod:`.labels` (A.3), :mod:`.triage` (A.4, A.5), :mod:`.enrichment` (C).
"""

from classpulse.classroom_help.rules.enrichment import (
    DIMENSION_COLUMNS,
    PublishedMember,
    PublishedRoom,
    dimension_columns,
    enrich_rows,
)
from classpulse.classroom_help.rules.labels import LabelRow, label_rows
from classpulse.classroom_help.rules.triage import (
    daily_rows,
    decision_time,
    triage_rows,
    verify_start,
)

__all__ = [
    "DIMENSION_COLUMNS",
    "LabelRow",
    "PublishedMember",
    "PublishedRoom",
    "daily_rows",
    "decision_time",
    "dimension_columns",
    "enrich_rows",
    "label_rows",
    "triage_rows",
    "verify_start",
]
