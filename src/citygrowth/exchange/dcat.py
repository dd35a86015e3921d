"""DCAT (W3C Data Catalog Vocabulary) as JSON-LD: the catalog and each dataset.

The same packages as the CKAN API, described with DCAT 2 terms the way ckanext-dcat
publishes them: ``/catalog.jsonld`` (the whole catalog) and ``/dataset/{name}.jsonld``.
"""

from __future__ import annotations

from typing import Any

from citygrowth.exchange.ckan import Catalog

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}
FREQUENCIES = {
    "A": "http://purl.org/cld/freq/annual", "Q": "http://purl.org/cld/freq/quarterly",
    "M": "http://purl.org/cld/freq/monthly", "W": "http://purl.org/cld/freq/weekly",
    "D": "http://purl.org/cld/freq/daily",
}


def _lang(zh: str, en: str) -> list[dict[str, str]]:
    return [{"@value": v, "@language": lang} for lang, v in (("zh", zh), ("en", en)) if v]


def _when(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:dateTime"}


def _distribution(res: dict[str, Any], uri: str) -> dict[str, Any]:
    return {
        "@id": uri, "@type": "dcat:Distribution", "dct:identifier": res["id"],
        "dct:title": res["name"], "dct:format": res["format"],
        "dcat:mediaType": res["mimetype"], "dcat:accessURL": {"@id": res["url"]},
        "dcat:downloadURL": {"@id": res["url"]},
    }


def _organization(cat: Catalog, org: dict[str, Any]) -> dict[str, Any]:
    return {"@id": f"{cat.base_url.rstrip('/')}/organization/{org['name']}",
            "@type": "foaf:Organization", "foaf:name": _lang(org["title"], org["title_en"])}


def dataset_nodes(cat: Catalog, pkg: dict[str, Any]) -> list[dict[str, Any]]:
    """The dcat:Dataset node of one package, then its distributions and publisher."""
    base = cat.base_url.rstrip("/")
    uri = f"{base}/dataset/{pkg['name']}"
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    dists = [_distribution(r, f"{uri}/resource/{r['id']}") for r in pkg["resources"]]
    org = _organization(cat, pkg["organization"])
    node: dict[str, Any] = {
        "@id": uri, "@type": "dcat:Dataset", "dct:identifier": pkg["name"],
        "dct:title": _lang(pkg["title_translated"]["zh_CN"], pkg["title_translated"]["en"]),
        "dct:description": pkg["notes"], "dcat:keyword": [t["name"] for t in pkg["tags"]],
        "dct:publisher": {"@id": org["@id"]},
        "dct:issued": _when(pkg["metadata_created"]),
        "dct:modified": _when(pkg["metadata_modified"]),
        "dcat:landingPage": {"@id": f"{base}/api/3/action/package_show?id={pkg['name']}"},
        "dcat:distribution": [{"@id": d["@id"]} for d in dists],
        "dct:source": extras.get("source", ""),
    }
    freq = FREQUENCIES.get(extras.get("frequency", ""))
    if freq:
        node["dct:accrualPeriodicity"] = {"@id": freq}
    if pkg["groups"]:
        node["dcat:theme"] = [{"@id": f"{base}/group/{g['name']}"} for g in pkg["groups"]]
    return [node, *dists, org]


def _dedupe(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for n in nodes:
        if n["@id"] not in seen:
            seen.add(n["@id"])
            out.append(n)
    return out


def catalog_jsonld(cat: Catalog) -> dict[str, Any]:
    """The whole catalog: a dcat:Catalog node and every dataset."""
    base = cat.base_url.rstrip("/")
    packages = cat.packages()
    nodes: list[dict[str, Any]] = []
    for pkg in packages:
        nodes.extend(dataset_nodes(cat, pkg))
    catalog = {
        "@id": f"{base}/catalog", "@type": "dcat:Catalog",
        "dct:title": _lang(cat.pub.name_zh, cat.pub.name_en),
        "dct:description": _lang(f"{cat.pub.name_zh}数据目录",
                                 f"Data catalog of the {cat.pub.name_en}"),
        "dct:publisher": {"@id": f"{base}/organization/{cat.pub.agency}"},
        "dct:language": ["zh", "en"], "foaf:homepage": {"@id": base + "/"},
        "dct:modified": _when(max([p["metadata_modified"] for p in packages],
                                  default=cat.created)),
        "dcat:dataset": [{"@id": f"{base}/dataset/{p['name']}"} for p in packages],
    }
    agency = {"@id": f"{base}/organization/{cat.pub.agency}", "@type": "foaf:Organization",
              "foaf:name": cat.pub.agency}
    return {"@context": CONTEXT, "@graph": _dedupe([catalog, agency, *nodes])}


def dataset_jsonld(cat: Catalog, pkg: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, "@graph": _dedupe(dataset_nodes(cat, pkg))}
