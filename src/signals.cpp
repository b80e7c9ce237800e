#include "signals.h"

#include <fcntl.h>
#include <array>
#include <cerrno>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace pginit {
namespace {

struct SignalName {
  int signo;
  std::string_view name;
};

const std::array kSignalNames{
    SignalName{SIGHUP, "HUP"},       SignalName{SIGINT, "INT"},       SignalName{SIGQUIT, "QUIT"},
    SignalName{SIGILL, "ILL"},       SignalName{SIGTRAP, "TRAP"},     SignalName{SIGABRT, "ABRT"},
    SignalName{SIGBUS, "BUS"},       SignalName{SIGFPE, "FPE"},       SignalName{SIGKILL, "KILL"},
    SignalName{SIGUSR1, "USR1"},     SignalName{SIGSEGV, "SEGV"},     SignalName{SIGUSR2, "USR2"},
    SignalName{SIGPIPE, "PIPE"},     SignalName{SIGALRM, "ALRM"},     SignalName{SIGTERM, "TERM"},
    SignalName{SIGSTKFLT, "STKFLT"}, SignalName{SIGCHLD, "CHLD"},     SignalName{SIGCONT, "CONT"},
    SignalName{SIGSTOP, "STOP"},     SignalName{SIGTSTP, "TSTP"},     SignalName{SIGTTIN, "TTIN"},
    SignalName{SIGTTOU, "TTOU"},     SignalName{SIGURG, "URG"},       SignalName{SIGXCPU, "XCPU"},
    SignalName{SIGXFSZ, "XFSZ"},     SignalName{SIGVTALRM, "VTALRM"}, SignalName{SIGPROF, "PROF"},
    SignalName{SIGWINCH, "WINCH"},   SignalName{SIGIO, "IO"},         SignalName{SIGPWR, "PWR"},
    SignalName{SIGSYS, "SYS"},
};

constexpr int kDropped = -1;
constexpr int kMaxSignal = 64;

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;

// Splits "a:b,c:d" into pairs; a usage error naming `option` and the item without ':'.
Result<Pairs> split_pairs(std::string_view spec, std::string_view option, std::string_view example) {
  Pairs pairs;
  while (!spec.empty()) {
    std::size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    std::size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return Failure{ExitCode::kUsage,
                     fmt::format("invalid {} item \"{}\": expected FROM:TO, e.g. {}", option, item, example)};
    }
    pairs.emplace_back(item.substr(0, colon), item.substr(colon + 1));
  }
  return pairs;
}

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  if (auto number = parse_int(text)) {
    if (*number >= 1 && *number <= kMaxSignal) return number;
    return std::nullopt;
  }
  std::string name = upper(text);
  if (name.starts_with("SIG")) name.erase(0, 3);
  for (const SignalName& entry : kSignalNames) {
    if (entry.name == name) return entry.signo;
  }
  if (name.starts_with("RTMIN") || name.starts_with("RTMAX")) {
    const bool from_min = name.starts_with("RTMIN");
    std::string_view offset_text = std::string_view(name).substr(5);
    int offset = 0;
    if (!offset_text.empty()) {
      if (offset_text[0] != (from_min ? '+' : '-')) return std::nullopt;
      auto parsed = parse_int(offset_text.substr(1));
      if (!parsed) return std::nullopt;
      offset = *parsed;
    }
    int signo = from_min ? SIGRTMIN + offset : SIGRTMAX - offset;
    if (signo >= SIGRTMIN && signo <= SIGRTMAX) return signo;
  }
  return std::nullopt;
}

std::string signal_name(int signo) {
  for (const SignalName& entry : kSignalNames) {
    if (entry.signo == signo) return std::string(entry.name);
  }
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) return fmt::format("RTMIN+{}", signo - SIGRTMIN);
  return std::to_string(signo);
}

bool is_forwarded(int signo) {
  switch (signo) {
    case SIGCHLD:
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGTRAP:
    case SIGSYS:
    case SIGABRT:
      return false;
    default:
      return signo >= 1 && signo <= kMaxSignal;
  }
}

bool stops_startup(int signo) {
  return signo == SIGTERM || signo == SIGINT || signo == SIGQUIT || signo == SIGHUP;
}

bool is_terminating(int signo) {
  return signo == SIGTERM || signo == SIGINT || signo == SIGQUIT;
}

Result<SignalRewrite> SignalRewrite::parse(std::string_view spec) {
  SignalRewrite rewrite;
  auto pairs = split_pairs(spec, "--signal-rewrite", "TERM:QUIT");
  if (!pairs) return pairs.failure();
  for (auto [from_text, to_text] : *pairs) {
    auto from = parse_signal(from_text);
    std::optional<int> to = to_text == "0" ? std::optional<int>(0) : parse_signal(to_text);
    if (!from || !to) {
      return Failure{ExitCode::kUsage, fmt::format("invalid --signal-rewrite item \"{}:{}\": unknown signal \"{}\"",
                                                   from_text, to_text, !from ? from_text : to_text)};
    }
    if (!is_forwarded(*from)) {
      return Failure{ExitCode::kUsage, fmt::format("invalid --signal-rewrite item \"{}:{}\": {} is never forwarded",
                                                   from_text, to_text, signal_name(*from))};
    }
    rewrite.table_[static_cast<std::size_t>(*from)] = *to == 0 ? kDropped : *to;
  }
  return rewrite;
}

int SignalRewrite::translate(int signo) const {
  if (signo < 1 || signo > kMaxSignal) return signo;
  const int target = table_[static_cast<std::size_t>(signo)];
  if (target == kDropped) return 0;
  return target == 0 ? signo : target;
}

std::array<int, 256> ExitRemap::identity() {
  std::array<int, 256> table{};
  for (std::size_t code = 0; code < table.size(); ++code) table[code] = static_cast<int>(code);
  return table;
}

Result<ExitRemap> ExitRemap::parse(std::string_view spec) {
  ExitRemap remap;
  auto pairs = split_pairs(spec, "--remap-exit", "143:0");
  if (!pairs) return pairs.failure();
  for (auto [from_text, to_text] : *pairs) {
    auto from = parse_int(from_text);
    auto to = parse_int(to_text);
    if (!from || !to || *from < 0 || *from > 255 || *to < 0 || *to > 255) {
      return Failure{ExitCode::kUsage,
                     fmt::format("invalid --remap-exit item \"{}:{}\": codes are 0 to 255", from_text, to_text)};
    }
    remap.table_[static_cast<std::size_t>(*from)] = *to;
  }
  return remap;
}

int ExitRemap::apply(int exit_code) const {
  if (exit_code < 0 || exit_code > 255) return exit_code;
  return table_[static_cast<std::size_t>(exit_code)];
}

sigset_t handled_signal_set() {
  sigset_t set;
  sigfillset(&set);
  for (int signo : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT})
    sigdelset(&set, signo);
  return set;
}

SignalSource::SignalSource(asio::io_context& io, const sigset_t& signals)
    : descriptor_(io, signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC)), own_pid_(getpid()) {}

SignalSource::~SignalSource() = default;  // the descriptor owns and closes the signalfd

void SignalSource::start(std::function<void(int, int)> on_signal) {
  on_signal_ = std::move(on_signal);
  wait_next();
}

void SignalSource::wait_next() {
  descriptor_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const asio::error_code& error) {
    if (error) return;
    // Drain everything pending (the descriptor is edge-triggered in Asio's reactor): a read that
    // does not fill the buffer took all there was, so no second read is needed to learn that.
    std::array<signalfd_siginfo, 8> infos{};
    ssize_t got = 0;
    do {
      got = ::read(descriptor_.native_handle(), infos.data(), sizeof infos);
      if (got > 0) dispatch(infos.data(), static_cast<std::size_t>(got) / sizeof(signalfd_siginfo));
    } while (got == static_cast<ssize_t>(sizeof infos));
    wait_next();
  });
}

void SignalSource::dispatch(const signalfd_siginfo* infos, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const signalfd_siginfo& info = infos[i];
    // A write of ours to a closed pipe (our log's reader went away) raises SIGPIPE with our own
    // pid: not for the child, and logging it would write, fail and raise it again, forever.
    if (info.ssi_signo == SIGPIPE && info.ssi_pid == static_cast<std::uint32_t>(own_pid_)) continue;
    on_signal_(static_cast<int>(info.ssi_signo), static_cast<int>(info.ssi_pid));
  }
}

void SignalSource::serve_blocking(const std::function<bool()>& done) {
  // Out of the reactor's epoll set while served here (release() deletes it there and cancels the
  // armed wait): a signal then wakes the read below and nothing else.
  const int fd = descriptor_.release();
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0) {
    std::array<signalfd_siginfo, 8> infos{};
    while (!done()) {
      const ssize_t got = ::read(fd, infos.data(), sizeof infos);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      dispatch(infos.data(), static_cast<std::size_t>(got) / sizeof(signalfd_siginfo));
    }
    fcntl(fd, F_SETFL, flags);
  }
  // Back to the io_context, which serves whatever comes next (or, should fcntl have failed, instead).
  asio::error_code error;
  descriptor_.assign(fd, error);
  if (error) {
    ::close(fd);
    return;
  }
  wait_next();
}

}  // namespace pginit
