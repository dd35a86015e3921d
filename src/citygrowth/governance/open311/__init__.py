"""Open311 GeoReport v2 server (``/open311/v2/``): discovery, services, service definitions,
requests (POST and GET), tokens, and the common extensions (paging, ``extensions=true`` with
notes, ``servicerequestupdates``)."""
