#include "pg_conn.h"

#include <charconv>

#include <libpq-fe.h>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>

#include "log.h"
#include "pg_error.h"

namespace pginit {
namespace {

using WaitType = asio::posix::stream_descriptor::wait_type;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Notices ("relation already exists, skipping") go to the debug log, not to libpq's stderr print.
void log_notice(void*, const char* message) {
  log::debug("server notice", {{"notice", trimmed(message)}});
}

PgFailure failure_from_result(const PGresult* result) {
  PgFailure failure;
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  failure.message = primary != nullptr ? primary : trimmed(PQresultErrorMessage(result));
  if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE)) failure.sqlstate = state;
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) failure.hint = hint;
  if (const char* position = PQresultErrorField(result, PG_DIAG_STATEMENT_POSITION)) {
    int value = 0;
    std::string_view text(position);
    if (std::from_chars(text.data(), text.data() + text.size(), value).ec == std::errc{}) failure.position = value;
  }
  return failure;
}

}  // namespace

PgConn::PgConn(asio::any_io_executor executor) : executor_(executor), socket_(executor), watchdog_(executor) {}

PgConn::~PgConn() {
  close();
}

void PgConn::close() {
  if (socket_.is_open()) socket_.release();
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  disarm_watchdog();
}

bool PgConn::connected() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

bool PgConn::still_connected() {
  if (!connected()) return false;
  return PQconsumeInput(conn_) != 0 && PQstatus(conn_) == CONNECTION_OK;
}

int PgConn::server_version() const {
  return conn_ != nullptr ? PQserverVersion(conn_) : 0;
}

int PgConn::backend_pid() const {
  if (conn_ == nullptr) return 0;
  return pooled_ ? server_pid_ : PQbackendPID(conn_);
}

void PgConn::mark_pooled() {
  pooled_ = true;
  server_pid_ = 0;
}

bool PgConn::in_transaction() const {
  if (conn_ == nullptr) return false;
  PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

void PgConn::arm_watchdog(Duration timeout) {
  timed_out_ = false;
  const unsigned generation = ++watchdog_generation_;
  if (timeout.count() <= 0) return;
  watchdog_.expires_after(timeout);
  watchdog_.async_wait([this, generation](const asio::error_code& error) {
    // A stale expiry (queued before the operation it guarded finished) must not hit the next one.
    if (error || generation != watchdog_generation_) return;
    timed_out_ = true;
    if (socket_.is_open()) socket_.cancel();
  });
}

void PgConn::disarm_watchdog() {
  ++watchdog_generation_;
  watchdog_.cancel();
}

asio::error_code PgConn::register_socket() {
  const int fd = PQsocket(conn_);
  if (fd < 0) return asio::error::bad_descriptor;
  // While connecting, libpq may replace its socket between calls (next host, SSL fallback), possibly
  // reusing the number: the current fd is registered anew for every wait then, and a fresh epoll
  // registration also reports readiness that already exists. Once connected the socket stays, and
  // so does its registration (asio re-arms it for each wait): three system calls fewer per wait.
  asio::error_code error;
  if (connecting_ || !socket_.is_open() || socket_.native_handle() != fd) {
    if (socket_.is_open()) socket_.release();
    socket_.assign(fd, error);
  }
  return error;
}

Task<asio::error_code> PgConn::wait_socket(WaitType direction) {
  if (asio::error_code error = register_socket()) co_return error;
  auto [error] = co_await socket_.async_wait(direction, kAsValues);
  co_return error;
}

Task<asio::error_code> PgConn::wait_readable_or_writable() {
  if (asio::error_code error = register_socket()) co_return error;
  // The first to complete wins and the group cancels the other one.
  auto [order, read_error, write_error] = co_await asio::experimental::make_parallel_group(
                                              socket_.async_wait(WaitType::wait_read, asio::experimental::deferred),
                                              socket_.async_wait(WaitType::wait_write, asio::experimental::deferred))
                                              .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  co_return order[0] == 0 ? read_error : write_error;
}

PgFailure PgConn::failure_from_connection(std::string fallback) const {
  PgFailure failure;
  failure.message = conn_ != nullptr ? trimmed(PQerrorMessage(conn_)) : "";
  if (failure.message.empty()) failure.message = std::move(fallback);
  return failure;
}

PgFailure PgConn::failure_from_wait(const asio::error_code& error, std::string_view timed_out_text,
                                    std::string_view stopped_text) const {
  if (timed_out_) return PgFailure{.message = std::string(timed_out_text), .timed_out = true};
  if (error == asio::error::operation_aborted) return PgFailure{.message = std::string(stopped_text), .stopped = true};
  return failure_from_connection(error.message());
}

Task<std::optional<PgFailure>> PgConn::connect(const ConnParams& params, Duration timeout) {
  close();
  params_ = params;
  pooled_ = false;
  server_pid_ = 0;
  std::vector<const char*> keywords, values;
  for (const auto& [keyword, value] : params) {
    keywords.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectStartParams(keywords.data(), values.data(), 0);
  if (conn_ == nullptr) co_return PgFailure{.message = "out of memory"};
  if (PQstatus(conn_) == CONNECTION_BAD) co_return failure_from_connection("invalid connection parameters");
  PQsetNoticeProcessor(conn_, log_notice, nullptr);

  arm_watchdog(timeout);
  connecting_ = true;
  // libpq: before the first PQconnectPoll, behave as if it returned PGRES_POLLING_WRITING.
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
  while (poll != PGRES_POLLING_OK && poll != PGRES_POLLING_FAILED) {
    asio::error_code error =
        co_await wait_socket(poll == PGRES_POLLING_READING ? WaitType::wait_read : WaitType::wait_write);
    if (error) {
      connecting_ = false;
      disarm_watchdog();
      PgFailure failure = failure_from_wait(error, "timeout expired", "connection attempt stopped");
      close();
      co_return failure;
    }
    poll = PQconnectPoll(conn_);
  }
  connecting_ = false;
  disarm_watchdog();
  if (poll == PGRES_POLLING_FAILED) {
    PgFailure failure = failure_from_connection("connection failed");
    close();
    co_return failure;
  }
  PQsetnonblocking(conn_, 1);
  co_return std::nullopt;
}

void PgConn::mark_connection_loss(std::optional<PgFailure>& failure) const {
  if (!failure || failure->stopped) return;
  // A terminated backend sends 57P01 and closes; a restart or a dead link shows as EOF or a
  // socket error, after which libpq marks the connection bad.
  failure->connection_lost = is_connection_loss(failure->sqlstate) ||
                             (conn_ != nullptr && PQstatus(conn_) == CONNECTION_BAD && !failure->timed_out);
}

Task<QueryResult> PgConn::query(std::string_view sql_text, const QueryParams& params, Duration timeout) {
  const std::string sql(sql_text);  // copied before the first suspension: the caller's text may go
  QueryResult outcome = co_await run_query(sql, params, timeout);
  mark_connection_loss(outcome.failure);
  co_return outcome;
}

Task<PipelineResult> PgConn::pipeline(const std::vector<std::string>& statements,
                                      const std::function<void(std::size_t)>& statement_done) {
  PipelineResult outcome = co_await run_pipeline(statements, statement_done);
  mark_connection_loss(outcome.failure);
  co_return outcome;
}

Task<PipelineResult> PgConn::run_pipeline(const std::vector<std::string>& statements,
                                          const std::function<void(std::size_t)>& statement_done) {
  PipelineResult outcome;
  if (!connected() || PQenterPipelineMode(conn_) == 0) {
    outcome.failure = failure_from_connection("cannot start a pipeline");
    co_return outcome;
  }
  // Non-blocking: libpq buffers what the socket does not take yet; PQflush below sends the rest.
  for (const std::string& statement : statements) {
    if (PQsendQueryParams(conn_, statement.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 0) {
      outcome.failure = failure_from_connection("could not send the query");
      co_return outcome;
    }
  }
  if (PQpipelineSync(conn_) == 0) {
    outcome.failure = failure_from_connection("could not send the query");
    co_return outcome;
  }
  bool statement_has_result = false;  // a NULL result ends a statement's results only after one
  while (true) {
    while (PQisBusy(conn_) == 0) {
      PGresult* result = PQgetResult(conn_);
      if (result == nullptr) {
        if (!statement_has_result) break;
        statement_has_result = false;
        if (!outcome.failure) statement_done(outcome.completed++);
        continue;
      }
      const ExecStatusType status = PQresultStatus(result);
      if (status == PGRES_PIPELINE_SYNC) {
        PQclear(result);
        if (PQexitPipelineMode(conn_) == 0 && !outcome.failure)
          outcome.failure = failure_from_connection("cannot end the pipeline");
        co_return outcome;
      }
      statement_has_result = true;
      if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
        if (!outcome.failure) outcome.failure = PgFailure{.message = "COPY FROM STDIN/TO STDOUT is not supported"};
        PQclear(result);
        close();  // the only way out of COPY mode without a data stream
        co_return outcome;
      }
      // After the first error the server skips the rest (PGRES_PIPELINE_ABORTED) until the Sync.
      if (status == PGRES_FATAL_ERROR && !outcome.failure) outcome.failure = failure_from_result(result);
      PQclear(result);
    }
    const int flushed = PQflush(conn_);
    if (flushed < 0) {
      outcome.failure = failure_from_connection("could not send the query");
      co_return outcome;
    }
    asio::error_code error;
    if (flushed == 1)
      error = co_await wait_readable_or_writable();
    else
      error = co_await wait_socket(WaitType::wait_read);
    if (error) {
      outcome.failure = failure_from_wait(error, "query timed out", "query stopped");
      co_return outcome;
    }
    if (PQconsumeInput(conn_) == 0) {
      // A FATAL the server sent before it closed (a transaction_timeout, a pg_terminate_backend) says
      // why; libpq's own "server closed the connection unexpectedly" would not.
      if (!outcome.failure) outcome.failure = failure_from_connection("connection lost");
      co_return outcome;
    }
  }
}

Task<QueryResult> PgConn::run_query(const std::string& sql, const QueryParams& params, Duration timeout) {
  QueryResult outcome;
  if (!connected()) {
    outcome.failure = PgFailure{.message = "not connected"};
    co_return outcome;
  }
  int sent = 0;
  if (params.empty()) {
    sent = PQsendQuery(conn_, sql.c_str());
  } else {
    std::vector<const char*> values;
    for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
    sent = PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0);
  }
  if (sent == 0) {
    outcome.failure = failure_from_connection("could not send the query");
    co_return outcome;
  }

  arm_watchdog(timeout);
  // Non-blocking mode: the query may not all be sent at once (libpq docs, "Asynchronous Command
  // Processing"): wait for write readiness and flush again until PQflush returns 0.
  for (int flush = PQflush(conn_); flush != 0; flush = PQflush(conn_)) {
    if (flush < 0) {
      disarm_watchdog();
      outcome.failure = failure_from_connection("could not send the query");
      co_return outcome;
    }
    if (asio::error_code error = co_await wait_socket(WaitType::wait_write)) {
      disarm_watchdog();
      outcome.failure = failure_from_wait(error, "query timed out", "query stopped");
      co_return outcome;
    }
    PQconsumeInput(conn_);
  }

  while (true) {
    bool done = false;
    while (!done && PQisBusy(conn_) == 0) {
      PGresult* result = PQgetResult(conn_);
      if (result == nullptr) {
        done = true;
        break;
      }
      switch (PQresultStatus(result)) {
        case PGRES_TUPLES_OK:
        case PGRES_SINGLE_TUPLE: {
          outcome.rows.clear();
          outcome.returned_rows = true;
          const int columns = PQnfields(result);
          for (int row = 0; row < PQntuples(result); ++row) {
            Row values;
            for (int column = 0; column < columns; ++column) {
              if (PQgetisnull(result, row, column))
                values.emplace_back(std::nullopt);
              else
                values.emplace_back(std::string(PQgetvalue(result, row, column), PQgetlength(result, row, column)));
            }
            outcome.rows.push_back(std::move(values));
          }
          break;
        }
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:
          outcome.returned_rows = false;
          break;
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH:
          if (!outcome.failure) outcome.failure = PgFailure{.message = "COPY FROM STDIN/TO STDOUT is not supported"};
          PQclear(result);
          close();  // the only way out of COPY mode without a data stream
          disarm_watchdog();
          co_return outcome;
        default:
          // The first error is the one that matters: later results (if any) are consequences.
          if (!outcome.failure) outcome.failure = failure_from_result(result);
          break;
      }
      PQclear(result);
    }
    if (done) break;
    // libpq holds no complete result yet: wait for the server, then read what it sent (not an
    // empty read first, right after sending).
    if (asio::error_code error = co_await wait_socket(WaitType::wait_read)) {
      disarm_watchdog();
      outcome.failure = failure_from_wait(error, "query timed out", "query stopped");
      co_return outcome;
    }
    if (PQconsumeInput(conn_) == 0) {
      disarm_watchdog();
      if (!outcome.failure) outcome.failure = failure_from_connection("connection lost");  // keep the server's FATAL
      co_return outcome;
    }
  }
  disarm_watchdog();
  co_return outcome;
}

bool PgConn::take_notifications() {
  bool any = false;
  while (PGnotify* notification = PQnotifies(conn_)) {
    PQfreemem(notification);
    any = true;
  }
  return any;
}

Task<NotificationWait> PgConn::wait_for_notification(Duration timeout) {
  NotificationWait outcome;
  if (!connected()) {
    outcome.failure = PgFailure{.message = "not connected"};
    co_return outcome;
  }
  arm_watchdog(timeout);
  while (!take_notifications()) {
    if (asio::error_code error = co_await wait_socket(WaitType::wait_read)) {
      if (!timed_out_) outcome.failure = failure_from_wait(error, "", "wait stopped");
      break;
    }
    if (PQconsumeInput(conn_) == 0) {
      outcome.failure = failure_from_connection("connection lost");
      break;
    }
  }
  outcome.notified = !outcome.failure && !timed_out_;
  disarm_watchdog();
  mark_connection_loss(outcome.failure);
  co_return outcome;
}

Task<QueryResult> PgConn::query_aside(std::string_view sql_text, const QueryParams& params, Duration timeout) {
  const std::string sql(sql_text);
  const ConnParams connection_params = params_;  // this connection may be closed meanwhile
  PgConn aside(executor_);
  QueryResult outcome;
  if (auto failure = co_await aside.connect(connection_params, timeout)) {
    outcome.failure = std::move(failure);
    co_return outcome;
  }
  co_return co_await aside.query(sql, params, timeout);
}

Task<bool> PgConn::cancel_running_query(Duration timeout) {
  if (conn_ == nullptr || backend_pid() == 0) co_return false;
  const QueryParams params{std::to_string(backend_pid())};
  // Behind a pooler that was not recognised as one (the wait phase does not look), the pid would be
  // the pooler's random key: only a session of our own role is ever cancelled.
  QueryResult result = co_await query_aside(
      "SELECT coalesce(bool_or(pg_cancel_backend(pid)), false) FROM pg_stat_activity "
      "WHERE pid = $1::int AND usename = current_user",
      params, timeout);
  if (!result.ok()) log::warn("could not cancel the running query", {{"reason", result.failure->message}});
  co_return result.ok() && !result.rows.empty() && result.rows[0][0] == std::optional<std::string>("t");
}

}  // namespace pginit
