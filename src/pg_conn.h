#pragma once
// One asynchronous libpq connection on the io_context: the only code that drives PQconnectPoll.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "async.h"
#include "dsn.h"

struct pg_conn;

namespace pginit {

/// Why an operation failed. `stopped`: a stop request cut it short; `timed_out`: its limit passed.
struct PgFailure {
  std::string message;          ///< server or libpq text (may echo connection details: redact before printing)
  std::string sqlstate;         ///< empty for connection-time and client-side failures
  std::optional<int> position;  ///< 1-based character offset in the statement, if the server said
  std::string hint;
  bool stopped = false;
  bool timed_out = false;
  bool connection_lost = false;  ///< the session is gone (socket error, EOF, 08xxx, 57P01-03): reconnect
};

using Row = std::vector<std::optional<std::string>>;
/// Text parameters $1, $2, …; nullopt is NULL.
using QueryParams = std::vector<std::optional<std::string>>;
inline const QueryParams kNoParams;

// GCC 12 destroys some temporaries of a co_await expression twice (a std::string in an aggregate
// crashed here) and cannot take a braced list there at all. So: SQL passes as string_view, and
// anything with a destructor is a named local before the co_await, never a temporary in it.

/// The rows of the last row set a query returned (a COMMIT after a SELECT leaves them), or why it failed.
struct QueryResult {
  std::vector<Row> rows;
  bool returned_rows = false;  ///< the very last result was a row set (SELECT), even an empty one
  std::optional<PgFailure> failure;
  bool ok() const { return !failure.has_value(); }
};

/// How far a pipeline got: the statements before `completed` succeeded; `failure` is the first
/// error, of statement `completed`, after which the server skipped the rest.
struct PipelineResult {
  std::size_t completed = 0;
  std::optional<PgFailure> failure;
  bool ok() const { return !failure.has_value(); }
};

/// How a wait for a notification ended: `notified`, or neither (the timeout passed), or `failure`.
struct NotificationWait {
  bool notified = false;
  std::optional<PgFailure> failure;
};

class PgConn {
 public:
  explicit PgConn(asio::any_io_executor executor);
  ~PgConn();  ///< closes the connection (PQfinish)
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  /// Connects (PQconnectStartParams + PQconnectPoll on socket readiness). nullopt on success.
  /// `timeout` bounds the whole attempt, enforced by our timer rather than libpq's.
  Task<std::optional<PgFailure>> connect(const ConnParams& params, Duration timeout);

  /// Sends `sql` (simple protocol when `params` is empty; several statements allowed) or a
  /// one-statement parameterised query, and collects the results. `timeout` 0 = no limit.
  Task<QueryResult> query(std::string_view sql, const QueryParams& params = kNoParams, Duration timeout = Duration{0});

  /// Sends all of `statements` (one each, no parameters) without waiting for their results, and
  /// reads the results as the server produces them: libpq's pipeline mode, one Sync at the end.
  /// A file of many small statements then costs one round trip instead of one per statement. The
  /// server runs them in order and skips the rest after the first error. `statement_done(i)` runs
  /// when statement i has succeeded. After a stop or a lost connection the connection is unusable.
  Task<PipelineResult> pipeline(const std::vector<std::string>& statements,
                                const std::function<void(std::size_t)>& statement_done);

  /// Waits, idle, until a notification arrives on a channel this session LISTENs to (or one came
  /// with an earlier answer), or `timeout` passes; consumes them all.
  Task<NotificationWait> wait_for_notification(Duration timeout);

  /// Runs one query over a second, short-lived connection with the same parameters, e.g. to look
  /// at this session from outside while it waits. Fails if it cannot connect within `timeout`.
  Task<QueryResult> query_aside(std::string_view sql, const QueryParams& params, Duration timeout);

  /// Asks the server to cancel the running query, over a second connection (query_aside:
  /// `SELECT pg_cancel_backend(pid)`), so that the loop never blocks as PQcancel does.
  Task<bool> cancel_running_query(Duration timeout);

  bool connected() const;
  /// The server's version as PQserverVersion gives it (150018 for 15.18; through PgBouncer, the
  /// server's own); 0 when not connected.
  int server_version() const;
  /// Reads what the server sent meanwhile, without waiting: false once the session is gone (EOF,
  /// a socket error, a FATAL message). For a connection that sits idle while another one works.
  bool still_connected();
  /// The server process behind this session: PQbackendPID, or, once mark_pooled() was called,
  /// the one set_server_pid() named (0: unknown; cancel_running_query and blocker look-ups then
  /// do nothing).
  int backend_pid() const;
  /// A connection pooler stands between: PQbackendPID is the pooler's own key, not a server
  /// process, and in transaction pooling the server process changes between transactions.
  void mark_pooled();
  bool pooled() const { return pooled_; }
  /// The server process of the transaction now open, learnt with `SELECT pg_backend_pid()`
  /// inside it (0 when none is open).
  void set_server_pid(int pid) { server_pid_ = pid; }
  const asio::any_io_executor& executor() const { return executor_; }
  /// True inside a transaction block (including a failed one).
  bool in_transaction() const;
  void close();

 private:
  asio::error_code register_socket();
  Task<asio::error_code> wait_socket(asio::posix::stream_descriptor::wait_type direction);
  /// Waits until the server sent something or the socket takes more output: while output is
  /// pending, the server may itself be blocked sending results to us.
  Task<asio::error_code> wait_readable_or_writable();
  Task<PipelineResult> run_pipeline(const std::vector<std::string>& statements,
                                    const std::function<void(std::size_t)>& statement_done);
  void arm_watchdog(Duration timeout);
  void disarm_watchdog();
  Task<QueryResult> run_query(const std::string& sql, const QueryParams& params, Duration timeout);
  PgFailure failure_from_connection(std::string fallback) const;
  /// Frees the notifications libpq has received; true if there were any.
  bool take_notifications();
  /// Sets failure->connection_lost when the session is gone.
  void mark_connection_loss(std::optional<PgFailure>& failure) const;
  /// Why a socket wait ended early: our watchdog (timed out), a stop request (cancelled), or a
  /// real socket error, which is an ordinary, retryable failure rather than a stop.
  PgFailure failure_from_wait(const asio::error_code& error, std::string_view timed_out_text,
                              std::string_view stopped_text) const;

  asio::any_io_executor executor_;
  pg_conn* conn_ = nullptr;
  ConnParams params_;
  asio::posix::stream_descriptor socket_;  // never owns the fd: libpq does
  asio::steady_timer watchdog_;
  unsigned watchdog_generation_ = 0;
  bool timed_out_ = false;
  bool connecting_ = false;  // the socket may change between waits
  bool pooled_ = false;
  int server_pid_ = 0;
};

}  // namespace pginit
