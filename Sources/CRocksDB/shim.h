#ifndef PERISCOPE_CROCKSDB_SHIM_H
#define PERISCOPE_CROCKSDB_SHIM_H
// RocksDB's C API. Imported by PeriscopeStorage only; no other module may see these types.
#include <rocksdb/c.h>
#endif
