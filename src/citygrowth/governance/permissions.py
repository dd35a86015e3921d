"""Who may do what with cases (the table the plugin hands to ``citygrowth_permissions``)."""

from __future__ import annotations

from collections.abc import Sequence

VIEW = ["case.view"]
COMMAND = ["case.register", "case.cancel", "case.dispatch", "case.rework", "case.close",
           "case.approve", "case.supervise", "case.escalate", "case.reopen", "case.evaluation"]

PERMISSIONS: dict[str, Sequence[str]] = {
    "district_admin": [*VIEW, *COMMAND, "case.report", "case.taxonomy", "help.view",
                       "help.manage", "help.take"],
    "street_commander": [*VIEW, *COMMAND, "case.report", "help.view", "help.manage"],
    "department_officer": [*VIEW, "case.handle", "case.evaluation"],
    "grid_worker": [*VIEW, "case.report", "case.verify", "case.rework", "help.view",
                    "help.manage"],
    "analyst": [*VIEW, "case.evaluation"],
    "helper": ["help.view", "help.take"],
    "resident": ["case.report", "case.rate", "case.reopen"],
    "machine": [*VIEW, "case.report"],
}
