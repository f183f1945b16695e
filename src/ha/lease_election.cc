// Leader election through a coordination.k8s.io/v1 Lease (provider =
// "kubernetes"), in the manner of client-go's leaderelection.
//
// One thread reads the lease, decides (lease_logic.h) and writes it back
// with the resourceVersion it read, so of two replicas writing at once one
// gets 409 Conflict, reads again and decides again. The leader renews every
// `renew` and skips the read: its own last write told it the current
// resourceVersion, and a 409 says when that is no longer true.
//
// Safety rests on two clocks that never meet: a leader trusts its last
// successful renew for D - G from the moment it *sent* it, and a peer counts
// D from the moment it *saw* that renew, which is later. So the leader has
// stepped down at least G before any peer may take over, without comparing
// wall clocks. is_leader() only compares the steady clock with that
// deadline, so it is right even while this thread is frozen or blocked.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "ha/election.h"
#include "ha/lease_client.h"
#include "ha/lease_logic.h"

namespace klag::ha {
namespace {

using lease::Action;
using lease::Client;
using lease::Clock;
using lease::WallClock;
using std::chrono::milliseconds;

constexpr Clock::rep kNotLeader = std::numeric_limits<Clock::rep>::min();
// A clean stop releases the lease within this, or leaves it to expire.
constexpr milliseconds kReleaseBudget{1000};
// Conflicts in a row retried at once; past this, with a short pause.
constexpr int kQuickConflicts = 3;

milliseconds until(Clock::time_point t, Clock::time_point now) {
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(t - now));
}

std::string describe(const char* verb, const std::string& url, const lease::Response& r) {
  std::string out = std::string(verb) + " " + url + ": HTTP " + std::to_string(r.status);
  if (const std::string msg = lease::status_message(r.body); !msg.empty()) out += " (" + msg + ")";
  return out;
}

class LeaseElection final : public Election {
 public:
  LeaseElection(const config::Leadership& l, std::string identity, const std::string& base)
      : name_(l.lease_name),
        ns_(l.lease_namespace),
        identity_(std::move(identity)),
        duration_secs_(l.lease_duration_secs),
        timing_(lease::timing(l)),
        url_(lease::lease_url(base, ns_, name_)),
        collection_url_(lease::leases_url(base, ns_)),
        client_(l.token_file, l.ca_file),
        backoff_(timing_.first_backoff) {}

  ~LeaseElection() override { stop(); }
  LeaseElection(const LeaseElection&) = delete;
  LeaseElection& operator=(const LeaseElection&) = delete;
  LeaseElection(LeaseElection&&) = delete;
  LeaseElection& operator=(LeaseElection&&) = delete;

  void start(OnChange on_change) override {
    on_change_ = std::move(on_change);
    spdlog::info("leadership (kubernetes): lease {}/{} at {} as {} (duration {}s, renew every {}ms, a leader that "
                 "cannot renew steps down after {}ms)",
                 ns_, name_, url_, identity_, duration_secs_, timing_.renew.count(), timing_.trust.count());
    thread_ = std::thread([this] { run(); });
  }

  void stop() override {
    {
      std::lock_guard lock(stop_mu_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    client_.cancel();
    if (thread_.joinable()) thread_.join();
  }

  bool is_leader(Clock::time_point now) const override {
    return now.time_since_epoch().count() < deadline_.load(std::memory_order_acquire);
  }

  const char* provider() const override { return "kubernetes"; }

 private:
  void run() {
    milliseconds wait{0};
    while (!sleep(wait)) {
      notice_expiry();
      wait = round();
      notice_expiry();
      // Wake when the local deadline passes, to tell the app then.
      if (leading_) wait = std::min(wait, until(deadline(), Clock::now()));
    }
    release();
  }

  // One read, decision and write. Returns the pause before the next round.
  milliseconds round() {
    if (!fresh_) {
      auto r = client_.send(Client::Method::get, url_, {}, timing_.request_timeout);
      if (!r) return failed("GET " + url_ + ": " + r.error());
      if (r->status == 404) {
        observed_.reset();
      } else if (r->status == 200) {
        auto got = lease::parse_lease(r->body);
        if (!got) return failed("GET " + url_ + ": HTTP 200 but " + got.error());
        observed_ = lease::observe(observed_, std::move(*got), Clock::now());
      } else {
        return failed(describe("GET", url_, *r));
      }
      reachable();
    }
    fresh_ = false;

    const auto decision = lease::decide(observed_, identity_, duration_secs_, Clock::now(), WallClock::now());
    if (decision.action == Action::wait) {
      conflicts_ = 0;
      lost("the lease is held by " + observed_->lease.spec.holder);
      return std::min(timing_.renew, until(decision.expires, Clock::now()) + milliseconds(1));
    }

    const bool create = decision.action == Action::create;
    const char* verb = create ? "POST" : "PUT";
    const std::string& url = create ? collection_url_ : url_;
    const std::string body = create ? lease::create_body(name_, ns_, decision.spec)
                                    : lease::update_body(observed_->lease, decision.spec);
    const auto sent = Clock::now();
    auto r = client_.send(create ? Client::Method::post : Client::Method::put, url, body, timing_.request_timeout);
    if (!r) return failed(std::string(verb) + " " + url + ": " + r.error());
    if (r->status == 409 || (r->status == 404 && !create)) {
      // Written (or created, or deleted) by someone else since we read it.
      reachable();
      spdlog::debug("leadership (kubernetes): {}; reading the lease again", describe(verb, url, *r));
      if (++conflicts_ < kQuickConflicts) return milliseconds(0);
      conflicts_ = 0;
      return timing_.first_backoff;
    }
    if (r->status != 200 && r->status != 201) return failed(describe(verb, url, *r));
    auto written = lease::parse_lease(r->body);
    if (!written) return failed(std::string(verb) + " " + url + ": HTTP " + std::to_string(r->status) + " but " +
                                written.error());
    reachable();
    conflicts_ = 0;
    deadline_.store((sent + timing_.trust).time_since_epoch().count(), std::memory_order_release);
    observed_ = lease::observe(observed_, std::move(*written), Clock::now());
    fresh_ = true;
    if (!leading_) {
      leading_ = true;
      spdlog::info("leadership (kubernetes): this replica ({}) is now the leader ({} lease {}/{})", identity_,
                   decision.action == Action::create      ? "created"
                   : decision.action == Action::take_over ? "took over"
                                                          : "renewed",
                   ns_, name_);
      if (on_change_) on_change_(true);
    }
    return timing_.renew;
  }

  // The local deadline passed without a successful renew.
  void notice_expiry() {
    if (leading_ && !is_leader(Clock::now())) {
      lost("could not renew the lease within " + std::to_string(timing_.trust.count()) + "ms");
    }
  }

  void lost(const std::string& why) {
    deadline_.store(kNotLeader, std::memory_order_release);
    if (!leading_) return;
    leading_ = false;
    spdlog::warn("leadership (kubernetes): standing by: {}", why);
    if (on_change_) on_change_(false);
  }

  milliseconds failed(const std::string& what) {
    fresh_ = false;
    conflicts_ = 0;
    if (stopping()) return milliseconds(0);  // cancelled by stop(): nothing to report
    if (!failing_) {
      failing_ = true;
      spdlog::warn("leadership (kubernetes): {} (retrying, at most {}ms apart)", what, timing_.max_backoff.count());
    } else {
      spdlog::debug("leadership (kubernetes): {}", what);
    }
    const milliseconds wait = backoff_;
    backoff_ = std::min(backoff_ * 2, timing_.max_backoff);
    return wait;
  }

  void reachable() {
    backoff_ = timing_.first_backoff;
    if (!failing_) return;
    failing_ = false;
    spdlog::info("leadership (kubernetes): API server answers again at {}", url_);
  }

  // On stop: step down first, then hand the lease over at once instead of
  // letting peers wait out its duration. The resourceVersion makes this a
  // no-op if the lease is no longer ours.
  void release() {
    deadline_.store(kNotLeader, std::memory_order_release);
    if (leading_) {
      leading_ = false;
      spdlog::info("leadership (kubernetes): stopping; stepping down");
      if (on_change_) on_change_(false);
    }
    const auto give_up = Clock::now() + kReleaseBudget;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!observed_ || observed_->lease.spec.holder != identity_) return;
      const std::string body =
          lease::update_body(observed_->lease, lease::released(observed_->lease.spec, WallClock::now()));
      auto r = client_.send(Client::Method::put, url_, body, until(give_up, Clock::now()), /*cancellable=*/false);
      if (r && r->status == 200) {
        spdlog::info("leadership (kubernetes): released lease {}/{}", ns_, name_);
        return;
      }
      if (r && r->status == 409 && attempt == 0) {
        // The renew in flight at stop was cancelled after the server took
        // it: read the resourceVersion it left and try once more.
        auto got = client_.send(Client::Method::get, url_, {}, until(give_up, Clock::now()), false);
        if (got && got->status == 200) {
          if (auto parsed = lease::parse_lease(got->body)) {
            observed_ = lease::observe(observed_, std::move(*parsed), Clock::now());
            continue;
          }
        }
      }
      spdlog::warn("leadership (kubernetes): could not release the lease ({}); a peer takes over when it expires",
                   r ? describe("PUT", url_, *r) : "PUT " + url_ + ": " + r.error());
      return;
    }
  }

  bool stopping() {
    std::lock_guard lock(stop_mu_);
    return stop_;
  }

  bool sleep(milliseconds wait) {
    std::unique_lock lock(stop_mu_);
    return stop_cv_.wait_for(lock, wait, [this] { return stop_; });
  }

  Clock::time_point deadline() const {
    return Clock::time_point(Clock::duration(deadline_.load(std::memory_order_acquire)));
  }

  const std::string name_;
  const std::string ns_;
  const std::string identity_;
  const int64_t duration_secs_;
  const lease::Timing timing_;
  const std::string url_;
  const std::string collection_url_;
  Client client_;
  OnChange on_change_;

  // Steady-clock deadline of this replica's leadership (rep), kNotLeader
  // when standing by. The one field other threads read.
  std::atomic<Clock::rep> deadline_{kNotLeader};

  // Election thread only.
  std::optional<lease::Observation> observed_;
  bool fresh_ = false;  // observed_ is the answer to our last write: no need to read first
  bool leading_ = false;  // as last told to on_change
  bool failing_ = false;  // the API server did not answer last time (logged once)
  milliseconds backoff_;
  int conflicts_ = 0;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Election> make_lease_election(const config::Leadership& leadership, const std::string& identity) {
  auto base = lease::api_base(leadership.api_url, config::process_env());
  if (!base) throw std::runtime_error("leadership (kubernetes): " + base.error());
  return std::make_unique<LeaseElection>(leadership, identity, *base);
}

}  // namespace klag::ha
