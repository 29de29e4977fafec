#ifndef PERISCOPE_CLIBPQ_SHIM_H
#define PERISCOPE_CLIBPQ_SHIM_H
// libpq, PostgreSQL's C client library. Imported by PeriscopePostgres only; no other module may see these types.
#include <libpq-fe.h>
#include <poll.h>
#endif
