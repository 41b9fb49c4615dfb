"""`/healthz`: is this process able to serve? It answers from the database, so a web process cut off from
PostgreSQL is reported unhealthy (503) and taken out of rotation by Docker or a load balancer.

It also says which role the instance plays: "primary" (takes writes) or "mirror" (read-only: its database
is a hot standby, or READ_ONLY is set), and the replication lag in seconds: on a mirror, how far its data is
behind the primary's (0 when it has replayed everything it received; `replication_streaming` false when it
no longer receives anything); on a primary, the largest lag among its standbys (null with none)."""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute(REPLICATION)
            in_recovery, lag, peers = cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database does not answer")
        return JsonResponse({"status": "unavailable", "database": "error"}, status=503)
    answer = {
        "status": "ok",
        "database": "ok",
        "role": "mirror" if in_recovery or settings.READ_ONLY else "primary",
        "replication_lag_seconds": None if lag is None else round(float(lag), 3),
    }
    if in_recovery:
        answer["replication_streaming"] = bool(peers)
    else:
        answer["standbys"] = peers
    return JsonResponse(answer)


# One query (the load benchmark's baseline is this page): in recovery or not; the lag (a standby: 0 when
# it has replayed all it received, else the age of the last transaction replayed; a primary: the largest
# replay lag among its standbys, 0 once idle, null with none); the walreceivers streaming, or the standbys.
# pg_stat_replication and pg_stat_wal_receiver show their details to roles with pg_read_all_stats only.
REPLICATION = """
SELECT pg_is_in_recovery(),
       CASE
           WHEN pg_is_in_recovery() THEN
               CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END
           ELSE (SELECT CASE WHEN count(*) > 0 THEN COALESCE(MAX(EXTRACT(EPOCH FROM replay_lag)), 0) END
                 FROM pg_stat_replication)
       END,
       CASE
           WHEN pg_is_in_recovery() THEN
               (SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming')
           ELSE (SELECT count(*) FROM pg_stat_replication)
       END
"""
