// Crash-test harness: runs a writer in a forked child that reports each committed step through a
// pipe, and kills it with SIGKILL after a chosen number of reports (optionally after a short
// extra delay, so the kill also lands between reports). The parent sees every report, so a test
// can check after reopening that everything reported as committed survived the kill.
// Header-only; include as "support/kill_harness.hpp". POSIX only.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <type_traits>

namespace peat::test {

// Child side: sends one fixed-size report; exits the child (code 9) if the parent is gone.
template <typename Record>
void report(int fd, const Record& record) {
  static_assert(std::is_trivially_copyable_v<Record>);
  if (write(fd, &record, sizeof record) != static_cast<ssize_t>(sizeof record)) _exit(9);
}

struct KillOutcome {
  std::uint64_t reports = 0;  // reports the parent received
  bool killed = false;        // the child ended by our SIGKILL (not by exiting on its own)
  std::string detail;         // how it ended otherwise, for assertion messages
};

// Runs child(fd) in a forked process (it must report with report(fd, record); if it returns, the
// child exits 0) and calls on_report(record) in the parent for every report. After `kill_after`
// reports the parent waits `delay_us` and sends SIGKILL; it keeps reading what was already sent,
// then reaps the child. A child that fails should _exit with a code naming the failed step
// (report() uses 9); KillOutcome::detail carries it.
template <typename Record, typename Child, typename OnReport>
KillOutcome run_and_kill(Child&& child, std::uint64_t kill_after, useconds_t delay_us,
                         OnReport&& on_report) {
  static_assert(std::is_trivially_copyable_v<Record>);
  signal(SIGPIPE, SIG_IGN);
  KillOutcome out;
  int fds[2];
  if (pipe(fds) != 0) {
    out.detail = "pipe failed";
    return out;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    out.detail = "fork failed";
    return out;
  }
  if (pid == 0) {
    close(fds[0]);
    child(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  bool sent_kill = false;
  Record record{};
  while (read(fds[0], &record, sizeof record) == static_cast<ssize_t>(sizeof record)) {
    on_report(record);
    if (++out.reports >= kill_after && !sent_kill) {
      if (delay_us > 0) usleep(delay_us);
      kill(pid, SIGKILL);
      sent_kill = true;
    }
  }
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    out.detail = "waitpid failed";
    return out;
  }
  out.killed = sent_kill && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!out.killed) {
    out.detail = WIFEXITED(status) ? "child exited with code " + std::to_string(WEXITSTATUS(status))
                                   : "child ended with status " + std::to_string(status);
  }
  return out;
}

}  // namespace peat::test
