/* MESSAGE_IDs of harkd's own log events; systemd/harkd.catalog explains each.
 * Fixed forever: admins filter on them (journalctl MESSAGE_ID=...). */
#pragma once

#define EVENT_STARTED           "01fbe4e507f9409c9eb5466d8374d327"
#define EVENT_LISTENING         "f13a6cdd720547a4ae710a492487fd43"
#define EVENT_RELOADED          "c892d3bc2ea9492a850657aafb65a954"
#define EVENT_CONN_OPENED       "9d83abfe22614a789c37237beed4e172"
#define EVENT_CONN_CLOSED       "121b9ea682c04cbd81e24f6d4d10876f"
#define EVENT_CONN_TIMED_OUT    "d4282ae9e0c842a581319e2f290463f5"
#define EVENT_CONN_REFUSED      "0397afe29ed64b988ad68c27dad96302"
#define EVENT_STOPPED           "6116e296f14146a49faaca0ad11962c4"
#define EVENT_TRUNCATED         "d4cb81a6ae8a445699858e940d502a4d"
#define EVENT_DELIVERY_FAILED   "d1d1da43fcc447f899c336197596367b"
#define EVENT_STOPPING          "e9e4566dede145e0aba8cba42ac29fae"
#define EVENT_FRAMING_ERROR     "ba6883b914234931aaf8a555896d37d1"
#define EVENT_SYSLOG_MALFORMED  "a45f807ea21942439837e23961049c39"
#define EVENT_CONN_EVICTED      "dd4483a0612b4df7b57a24153f29537b"
#define EVENT_CONN_NOT_ALLOWED  "f5a08b83cba5480b8bd673bb295d011c"
#define EVENT_TLS_FAILED        "eb7159bce8d0465bb8b7712a68e80b90"
#define EVENT_UDP_RATE_LIMITED  "6d285c640b744c4ebba8d0a17b823dfa"
#define EVENT_UDP_KERNEL_DROPS  "0e08181c8d5947cab655a0125dbef257"
#define EVENT_NOT_STORED        "171146fd4e034deeb7f584c88fff7b65"
#define EVENT_PENDING_CUT       "6497bc3d12e249ab93a484310fb9055e"
