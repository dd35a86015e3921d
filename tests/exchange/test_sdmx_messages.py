"""SDMX-ML and SDMX-CSV written by citygrowth, read back with the sdmx1 library."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import sdmx

from citygrowth.exchange.sdmx.csv_data import write_sdmx_csv
from citygrowth.exchange.sdmx.data import to_sdmx_frame
from citygrowth.exchange.sdmx.errors import SdmxError, parse_error, syntax_error, write_error
from citygrowth.exchange.sdmx.query import (
    GENERIC,
    SDMX_CSV,
    STRUCTURE_SPECIFIC,
    negotiate,
    parse_data_query,
    parse_key,
)
from citygrowth.exchange.sdmx.structure import AreaInfo, IndicatorInfo, build_structures
from citygrowth.exchange.sdmx.xml_data import write_generic, write_structure_specific
from citygrowth.exchange.sdmx.xml_structure import select, write_structure

INDICATORS = [
    IndicatorInfo("ECO_GDP", "地区生产总值", "Gross domestic product", "亿元", "Q", "stats",
                  "ECO", "经济实力", "Economic strength"),
    IndicatorInfo("SOC_BEDS", "养老床位", "Elderly-care beds", "张/千人", "A", "civil", "SOC"),
]
AREAS = [AreaInfo("370203", "市北区", "Shibei District", "district"),
         AreaInfo("370203001", "街道一", "Street 1", "street", "370203")]
SS = build_structures(INDICATORS, AREAS, "CN_370203")
FRAME = pd.DataFrame({
    "indicator": ["ECO_GDP", "ECO_GDP", "ECO_GDP", "SOC_BEDS"],
    "area_code": ["370203", "370203", "370203001", "370203"],
    "period": ["2024-Q1", "2024-Q2", "2024-Q1", "2024"],
    "freq": ["Q", "Q", "Q", "A"],
    "value": [180.5, 185.25, 100.0, 3.8],
    "unit": ["亿元", "亿元", "亿元", "张/千人"],
})
ROWS = to_sdmx_frame(FRAME)


@pytest.fixture(scope="module")
def structure() -> sdmx.message.StructureMessage:
    return sdmx.read_sdmx(io.BytesIO(write_structure(SS, select(SS, "dataflow", None, "all"))))


def series_values(msg: sdmx.message.DataMessage) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for obs in msg.data[0].obs:
        values = {kv.id: str(kv.value) for kv in obs.key}
        out[(values["INDICATOR"], values["AREA"], values["TIME_PERIOD"])] = float(obs.value)
    return out


EXPECTED = {("ECO_GDP", "370203", "2024-Q1"): 180.5, ("ECO_GDP", "370203", "2024-Q2"): 185.25,
            ("ECO_GDP", "370203001", "2024-Q1"): 100.0, ("SOC_BEDS", "370203", "2024"): 3.8}


def test_structure_message_round_trips_through_sdmx1(structure) -> None:
    flow = structure.dataflow["CGI"]
    dsd = structure.structure["DSD_CGI"]
    assert flow.structure is dsd
    assert [d.id for d in dsd.dimensions.components] == ["FREQ", "INDICATOR", "AREA",
                                                         "TIME_PERIOD"]
    assert {a.id for a in dsd.attributes.components} == {"UNIT_MEASURE", "UNIT_MULT",
                                                          "OBS_STATUS"}
    indicators = structure.codelist["CL_INDICATOR"]
    assert str(indicators["ECO_GDP"].name.localizations["zh"]) == "地区生产总值"
    assert str(indicators["ECO_GDP"].name.localizations["en"]) == "Gross domestic product"
    areas = structure.codelist["CL_AREA"]
    assert areas["370203001"].parent is areas["370203"]
    units = structure.codelist["CL_UNIT_MEASURE"]
    assert "CNY" in units and "PER_1000_PERSONS" in units


@pytest.mark.parametrize("dim_at_obs", ["TIME_PERIOD", "AllDimensions", "AREA"])
def test_generic_data_round_trips(dim_at_obs: str) -> None:
    msg = sdmx.read_sdmx(io.BytesIO(write_generic(SS, ROWS, dim_at_obs)))
    assert series_values(msg) == EXPECTED


@pytest.mark.parametrize("dim_at_obs", ["TIME_PERIOD", "AllDimensions"])
def test_structure_specific_data_round_trips_with_attributes(structure, dim_at_obs: str) -> None:
    body = write_structure_specific(SS, ROWS, dim_at_obs)
    msg = sdmx.read_sdmx(io.BytesIO(body), structure=structure.structure["DSD_CGI"])
    assert series_values(msg) == EXPECTED
    frame = sdmx.to_pandas(msg.data[0], attributes="dsgo").reset_index()
    gdp = frame[frame["INDICATOR"] == "ECO_GDP"]
    assert set(gdp["UNIT_MEASURE"]) == {"CNY"} and set(gdp["UNIT_MULT"]) == {"8"}
    assert set(frame["OBS_STATUS"]) == {"A"}


def test_sdmx_csv_round_trips(structure) -> None:
    body = write_sdmx_csv(SS, ROWS)
    assert body.decode().splitlines()[0] == (
        "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,INDICATOR,AREA,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,"
        "UNIT_MULT,OBS_STATUS")
    msg = sdmx.read_sdmx(io.BytesIO(body), format="csv", structure=structure.dataflow["CGI"])
    assert series_values(msg) == EXPECTED


def test_detail_levels_leave_out_what_they_should() -> None:
    keys_only = write_generic(SS, ROWS, detail="serieskeysonly").decode()
    assert "<gen:SeriesKey>" in keys_only and "<gen:Obs>" not in keys_only
    assert "UNIT_MEASURE" not in keys_only
    data_only = write_generic(SS, ROWS, detail="dataonly").decode()
    assert "<gen:ObsValue" in data_only and "OBS_STATUS" not in data_only
    no_data = write_generic(SS, ROWS, detail="nodata").decode()
    assert "UNIT_MEASURE" in no_data and "<gen:Obs>" not in no_data
    csv_keys = write_sdmx_csv(SS, ROWS, detail="serieskeysonly").decode().splitlines()
    assert csv_keys[0].endswith("FREQ,INDICATOR,AREA") and len(csv_keys) == 1 + 3


def test_keys_and_queries_parse_like_the_sdmx_rest_standard() -> None:
    assert parse_key("Q.ECO_GDP+SOC_BEDS.") == {
        "FREQ": {"Q"}, "INDICATOR": {"ECO_GDP", "SOC_BEDS"}, "AREA": None}
    assert parse_key("all") == {"FREQ": None, "INDICATOR": None, "AREA": None}
    with pytest.raises(SdmxError) as bad:
        parse_key("Q.ECO_GDP")
    assert bad.value.code == 140 and bad.value.status == 400
    with pytest.raises(SdmxError):
        parse_data_query(None, "2024-13", None, None, None)
    with pytest.raises(SdmxError) as late:
        parse_data_query(None, "2025", "2024", None, None)
    assert late.value.code == 150


def test_content_negotiation_prefers_accept_and_format_wins() -> None:
    assert negotiate("application/vnd.sdmx.structurespecificdata+xml;version=2.1", None,
                     True) == STRUCTURE_SPECIFIC
    assert negotiate("text/csv;q=0.5, application/vnd.sdmx.genericdata+xml", None,
                     True) == GENERIC
    assert negotiate(None, "csv", True) == SDMX_CSV
    with pytest.raises(SdmxError) as refused:
        negotiate("application/json", None, True)
    assert refused.value.status == 406


def test_error_message_is_sdmx_ml_with_code_and_texts() -> None:
    body = write_error(syntax_error("The key '{key}' is bad.", key="X"))
    assert parse_error(body) == ("140", "The key 'X' is bad.")
    assert b'xml:lang="zh"' in body
