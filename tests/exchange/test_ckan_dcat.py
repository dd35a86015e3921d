"""ckanapi against the running server's CKAN action API, and the DCAT JSON-LD catalog."""

from __future__ import annotations

import ckanapi
import httpx
import pytest

from citygrowth.catalog.framework import builtin_framework
from tests.exchange.conftest import World


@pytest.fixture(scope="module", params=[("api/3/action/", False), ("api/action/", True)],
                ids=["api3-post", "api-get"])
def ckan(request: pytest.FixtureRequest, world: World) -> ckanapi.RemoteCKAN:
    """ckanapi on both action paths, once posting JSON and once with GET requests."""
    base, get_only = request.param
    client = ckanapi.RemoteCKAN(world.base_url, get_only=get_only)
    client.base_url = base
    return client


def test_package_list_has_one_package_per_indicator(ckan: ckanapi.RemoteCKAN) -> None:
    names = ckan.action.package_list()
    assert len(names) == len(builtin_framework().indicators)
    assert "cgi-eco-gdp" in names and names == sorted(names)
    assert ckan.action.package_list(limit=2, offset=1) == names[1:3]


def test_package_show_describes_the_indicator(ckan: ckanapi.RemoteCKAN, world: World) -> None:
    pkg = ckan.action.package_show(id="cgi-eco-gdp")
    assert pkg["title"] == "地区生产总值"
    assert pkg["title_translated"]["en"] == "Gross domestic product"
    assert pkg["organization"]["name"] == "stats"
    assert pkg["organization"]["title"] == "区统计局"
    assert {t["name"] for t in pkg["tags"]} == {"经济实力", "Economic strength"}
    assert pkg["groups"][0]["name"] == "eco"
    assert [r["format"] for r in pkg["resources"]] == ["CSV", "JSON", "SDMX-ML", "SDMX-CSV"]
    # modified is when the data arrived; an indicator without data keeps its creation time
    assert pkg["metadata_modified"] != pkg["metadata_created"]
    idle = ckan.action.package_show(id="cgi-soc-volunteers")
    assert idle["metadata_modified"] == idle["metadata_created"] == pkg["metadata_created"]
    by_id = ckan.action.package_show(id=pkg["id"])
    assert by_id["name"] == "cgi-eco-gdp"
    # the resources work with the machine client's key
    csv_url = pkg["resources"][0]["url"]
    assert csv_url.startswith(world.base_url)
    r = httpx.get(csv_url, headers={"X-API-Key": world.machine_key})
    assert r.status_code == 200 and r.text.splitlines()[0].startswith("indicator,area_code")
    assert len(r.text.splitlines()) == 1 + 12
    sdmx_res = httpx.get(pkg["resources"][2]["url"], headers={"X-API-Key": world.machine_key})
    assert sdmx_res.status_code == 200 and b"GenericData" in sdmx_res.content


def test_package_show_errors_are_ckan_errors(ckan: ckanapi.RemoteCKAN) -> None:
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="no-such-package")
    with pytest.raises(ckanapi.ValidationError) as missing:
        ckan.action.package_show()
    assert missing.value.error_dict["id"] == ["Missing value"]


def test_package_search_with_q_rows_start_and_fq(ckan: ckanapi.RemoteCKAN) -> None:
    everything = ckan.action.package_search(rows=1000)
    assert everything["count"] == len(builtin_framework().indicators)
    gdp = ckan.action.package_search(q="地区生产总值")
    assert "cgi-eco-gdp" in [p["name"] for p in gdp["results"]]
    finance = ckan.action.package_search(fq="organization:finance", rows=1)
    assert finance["count"] >= 2 and len(finance["results"]) == 1
    page2 = ckan.action.package_search(fq="organization:finance", rows=1, start=1)
    assert page2["results"][0]["name"] != finance["results"][0]["name"]
    eco = ckan.action.package_search(q="tags:经济实力", rows=100, sort="name asc")
    names = [p["name"] for p in eco["results"]]
    assert names == sorted(names) and all(n.startswith("cgi-eco-") for n in names)
    facets = ckan.action.package_search(rows=0, **{"facet.field": '["organization"]'})
    assert facets["search_facets"]["organization"]["items"]
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(rows=-1)


def test_unknown_action_and_get_requests(world: World) -> None:
    r = httpx.get(f"{world.base_url}/api/3/action/package_search",
                  params={"q": "name:cgi-eco-gdp"})
    body = r.json()
    assert body["success"] is True and body["result"]["count"] == 1
    assert body["help"].endswith("help_show?name=package_search")
    bad = httpx.post(f"{world.base_url}/api/action/package_show", content=b"{nope",
                     headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["success"] is False


def test_dcat_catalog_lists_every_dataset(world: World) -> None:
    r = httpx.get(f"{world.base_url}/catalog.jsonld")
    assert r.headers["content-type"].startswith("application/ld+json")
    doc = r.json()
    assert doc["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    graph = {n["@id"]: n for n in doc["@graph"]}
    catalog = graph[f"{world.base_url}/catalog"]
    assert catalog["@type"] == "dcat:Catalog"
    datasets = [graph[d["@id"]] for d in catalog["dcat:dataset"]]
    assert len(datasets) == len(builtin_framework().indicators)
    gdp = graph[f"{world.base_url}/dataset/cgi-eco-gdp"]
    assert {"@value": "地区生产总值", "@language": "zh"} in gdp["dct:title"]
    assert gdp["dct:accrualPeriodicity"]["@id"] == "http://purl.org/cld/freq/quarterly"
    dist = [graph[d["@id"]] for d in gdp["dcat:distribution"]]
    assert {d["dct:format"] for d in dist} == {"CSV", "JSON", "SDMX-ML", "SDMX-CSV"}
    assert graph[gdp["dct:publisher"]["@id"]]["@type"] == "foaf:Organization"


def test_dcat_dataset_and_missing_dataset(world: World) -> None:
    doc = httpx.get(f"{world.base_url}/dataset/cgi-eco-gdp.jsonld").json()
    assert doc["@graph"][0]["dct:identifier"] == "cgi-eco-gdp"
    missing = httpx.get(f"{world.base_url}/dataset/nope.jsonld")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
