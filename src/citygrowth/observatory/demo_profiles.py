"""How the demo district's illustrative history is shaped, indicator by indicator.

Reference year: the seed article was published in 2025 and quotes "the year before", so its
figures (GDP 756.6 亿元, +7.4 % …) are the **2024** district values here. Other years follow
each profile's growth (or trend, for rates) with a little deterministic noise.

kinds: ``flow`` (a total over the period: split over sub-periods and areas), ``stock`` (a level
at the period's end: shared among areas), ``rate`` (a level per area, combined by the
indicator's mean rule), ``ratio`` (a ratio of two generated counts), ``population``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REF_YEAR = 2024
FIRST_YEAR = 2019


@dataclass(frozen=True)
class Profile:
    kind: str
    base: float
    growth: float = 0.0  # flows and stocks: yearly growth; rates: yearly change in points
    decimals: int = 0
    spread: float = 0.0  # rates: sd of the area effect, in the indicator's unit
    noise: float = 0.0  # rates: sd of period noise; flows/stocks: relative sd per year
    series: dict[int, float] = field(default_factory=dict)  # explicit yearly values
    shock: dict[int, float] = field(default_factory=dict)  # yearly multipliers (2020 …)
    lo: float | None = None
    hi: float | None = None


GDP_GROWTH = {2019: 6.1, 2020: 2.8, 2021: 8.6, 2022: 3.5, 2023: 5.9, 2024: 7.4, 2025: 6.0,
              2026: 5.5}
COVID = {2020: 0.9}

PROFILES: dict[str, Profile] = {
    "ECO_GDP": Profile("flow", 756.6, decimals=2, series={}),
    "ECO_GDP_GROWTH": Profile("rate", 7.4, decimals=1, series=GDP_GROWTH),
    "ECO_FIXED_INVEST_GROWTH": Profile("rate", 5.0, decimals=1, noise=2.5),
    "ECO_BUDGET_REVENUE": Profile("flow", 106.9, 0.05, decimals=2, shock=COVID),
    "ECO_FIN_INSTITUTIONS": Profile("stock", 193, 0.03),
    "ECO_RETAIL_SALES": Profile("flow", 750, 0.06, decimals=2, shock={2020: 0.93}),
    "ECO_KEY_PROJECT_INVEST": Profile("flow", 320, 0.08, decimals=2),
    "ECO_DOMESTIC_CAPITAL": Profile("flow", 190, 0.06, decimals=2),
    "ECO_FOREIGN_CAPITAL": Profile("flow", 4.9, 0.05, decimals=2),
    "IND_MARKET_ENTITIES": Profile("stock", 140000, 0.06),
    "IND_NEW_ENTITIES": Profile("flow", 16000, 0.04),
    "IND_LISTED_COMPANIES": Profile("stock", 98, 0.06),
    "IND_HIGHTECH_FIRMS": Profile("stock", 420, 0.12),
    "IND_RD_INTENSITY": Profile("rate", 2.6, 0.12, decimals=2, noise=0.05),
    "IND_LEADING_SHARE": Profile("rate", 41.0, 1.5, decimals=1, noise=0.5),
    "IND_INVEST_LEADS_LANDED": Profile("flow", 180, 0.08),
    "IND_KEY_PROJECTS": Profile("flow", 119, 0.04),
    "IND_NEW_JOBS": Profile("flow", 32000, 0.03, shock=COVID),
    "IND_UNEMPLOYMENT_RATE": Profile("rate", 2.9, -0.05, decimals=2, noise=0.1),
    "APP_MUSEUMS": Profile("stock", 22, 0.04),
    "APP_TOURIST_VISITS": Profile("flow", 2100, 0.07, decimals=1, shock={2020: 0.55,
                                                                          2021: 0.8}),
    "APP_OLD_COMPOUNDS_RENOVATED": Profile("stock", 900, 0.18),
    "APP_GREEN_COVERAGE": Profile("rate", 38.5, 0.3, decimals=1, spread=3, noise=0.2,
                                  lo=0, hi=100),
    "APP_PARK_ACCESS": Profile("rate", 86.0, 1.2, decimals=1, noise=0.4, lo=0, hi=100),
    "APP_AIR_GOOD_DAYS": Profile("rate", 85.0, 0.8, decimals=1, noise=6, lo=0, hi=100),
    "APP_PM25": Profile("rate", 29.0, -1.2, decimals=1, noise=6, lo=3),
    "APP_ROADS_REPAIRED": Profile("flow", 29, 0.0),
    "APP_CHOKEPOINTS_FIXED": Profile("flow", 23, 0.0),
    "APP_PARKING_ADDED": Profile("flow", 4000, 0.05),
    "APP_COMMUTE_45MIN": Profile("rate", 78.0, 0.8, decimals=1, noise=0.5, lo=0, hi=100),
    "APP_SHANTY_RENOVATED": Profile("stock", 43000, 0.08),
    "APP_RESETTLEMENT_STARTED": Profile("flow", 5000, 0.02),
    "SOC_FAMILY_DOCTOR": Profile("rate", 61.5, 1.5, decimals=1, spread=4, noise=0.8,
                                 lo=0, hi=100),
    "SOC_DOCTORS_PER_10K": Profile("rate", 38.0, 1.0, decimals=1, noise=0.5),
    "SOC_SCHOOLS_BUILT": Profile("flow", 6, 0.0, series={2019: 2, 2020: 2, 2021: 3,
                                                         2022: 3, 2023: 4, 2024: 6, 2025: 7}),
    "SOC_ELDERLY_BEDS": Profile("rate", 34.0, 1.2, decimals=1, spread=4, noise=0.5, lo=0),
    "SOC_LIVELIHOOD_SHARE": Profile("rate", 76.3, 0.4, decimals=1, noise=1.2, lo=0, hi=100),
    "SOC_VOLUNTEERS": Profile("stock", 130000, 0.09),
    "SOC_VOLUNTEER_ORGS": Profile("stock", 600, 0.07),
    "SOC_HELPER_HOURS": Profile("flow", 480000, 0.10, decimals=1),
    "SOC_HELP_TASKS_DONE": Profile("flow", 36000, 0.12),
    "GOV_CASES_DUE": Profile("flow", 180000, 0.05),
    "GOV_CASES_CLOSED_ONTIME": Profile("ratio", 92.0, 0.8, spread=3, noise=1.5, hi=100),
    "GOV_CASE_ONTIME_RATE": Profile("ratio", 92.0, 0.8),
    "GOV_CASE_CLOSURE_RATE": Profile("rate", 96.0, 0.3, decimals=1, spread=1.5, noise=1.2,
                                     lo=0, hi=100),
    "GOV_CASE_REWORK_RATE": Profile("rate", 4.5, -0.3, decimals=1, spread=1, noise=0.8, lo=0),
    "GOV_CASE_HANDLING_HOURS": Profile("rate", 30.0, -2.5, decimals=1, spread=5, noise=3,
                                       lo=1),
    "GOV_CASE_SATISFACTION": Profile("rate", 93.0, 0.5, decimals=1, spread=2, noise=1.5,
                                     lo=0, hi=100),
    "GOV_APPROVAL_DAYS": Profile("rate", 1.5, decimals=1, spread=0.3, noise=0.2, lo=0.5,
                                 series={2019: 20, 2020: 16, 2021: 12, 2022: 8, 2023: 4,
                                         2024: 1.5, 2025: 1.2, 2026: 1.0}),
    "GOV_TARGETS_ON_TRACK": Profile("rate", 82.0, 2.0, decimals=1, spread=5, noise=3,
                                    lo=0, hi=100),
    "GOV_PROJECTS_APPROVED": Profile("flow", 98, 0.03),
    "GOV_ONLINE_SERVICE_RATE": Profile("rate", 93.0, 1.5, decimals=1, noise=0.3, lo=0,
                                       hi=100),
    "GOV_ILLEGAL_BUILDING_REMOVED": Profile("flow", 56, -0.05, decimals=2),
    "SOC_POPULATION": Profile("population", 1_060_000, 0.005),
}


def yearly(code: str, profile: Profile, year: int) -> float:
    """The district's value for ``year`` before noise: flows/stocks grow geometrically,
    rates change linearly; explicit series win."""
    if profile.series and year in profile.series:
        return float(profile.series[year])
    if code == "ECO_GDP":
        level = profile.base
        if year >= REF_YEAR:
            for y in range(REF_YEAR + 1, year + 1):
                level *= 1 + GDP_GROWTH[y] / 100
        else:
            for y in range(year + 1, REF_YEAR + 1):
                level /= 1 + GDP_GROWTH[y] / 100
        return level
    if profile.kind in ("rate", "ratio"):
        return profile.base + profile.growth * (year - REF_YEAR)
    value = profile.base * (1 + profile.growth) ** (year - REF_YEAR)
    return value * profile.shock.get(year, 1.0)
