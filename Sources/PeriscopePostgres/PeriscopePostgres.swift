/// PostgreSQL through libpq, made safe for the rest of Periscope: one owner per connection
/// that closes it in `deinit`, Swift errors carrying the server's SQLSTATE, text-format
/// results, `COPY ... TO STDOUT` streaming, and the replication protocol's COPY BOTH stream
/// that logical decoding (`pgoutput`) runs over. No libpq type leaves this module.
///
/// Every call blocks on the network: callers run them on threads of their own (a
/// `NIOThreadPool`), never on an event loop or the cooperative pool. A connection is used by
/// one thread at a time.
enum PeriscopePostgresModule {}
